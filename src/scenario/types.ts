// The typed form of a scenario file (DESIGN §3, format v1). Every node that a
// diagnostic may point at carries the 1-based line and column of its YAML node.

export interface Pos {
  line: number;
  col: number;
}

/** A page content token: a short string, or 0 for zeros. */
export type PageValue = string | 0;

/** An allowed result in an `expect:` list: a word (`ok`, `SIGBUS`, `EIO`, ...) or a page value. */
export type ResultValue = string | number;

export type FsName = 'ext2' | 'ext4' | 'xfs';

/** setup.tlb_flush */
export type TlbFlushMode = 'ipi' | 'hypercall';

export interface KernelSpec {
  /** Profile name, e.g. `v4.7`. */
  base: string;
  /** Behaviour-flag overrides (`kernel: {base: v4.7, ext4_i_mmap_sem: false}`). */
  flags: Record<string, boolean>;
  pos: Pos;
  /** Position of each overridden flag's key. */
  flagPos: Record<string, Pos>;
}

export interface FileSetup {
  name: string;
  pages: number;
  /** page -> content of a block that exists at that page */
  written: Map<number, PageValue>;
  /** pages that are allocated but unwritten extents */
  unwritten: number[];
  huge: boolean;
  pos: Pos;
}

export interface MapSetup {
  name: string;
  file: string;
  private: boolean;
  sync: boolean;
  /** PROT_READ only (no VM_WRITE): stores fault with SIGSEGV, write pins fail */
  readonly: boolean;
  pos: Pos;
}

export interface BadBlock {
  file: string;
  page: number;
  pos: Pos;
}

/** A user buffer that is a page of a mapping: `{map, page}` (write's `from:`, read's `into:`). */
export interface UserBuf {
  map: string;
  page: number;
}

interface OpBase {
  /** Allowed results; `undefined` when the op has no `expect:`. */
  expect?: ResultValue[];
  pos: Pos;
}

export type Op =
  | (OpBase & { kind: 'fault'; map: string; page: number; write: boolean; huge: boolean })
  | (OpBase & { kind: 'load'; map: string; page: number })
  | (OpBase & { kind: 'store'; map: string; page: number; value: PageValue })
  | (OpBase & { kind: 'read'; file: string; page: number; pages: number; into?: UserBuf })
  | (OpBase & { kind: 'write'; file: string; page: number; value?: PageValue; pages: number; from?: UserBuf })
  | (OpBase & { kind: 'truncate'; file: string; pages: number })
  | (OpBase & { kind: 'punch'; file: string; page: number; pages: number })
  | (OpBase & { kind: 'fallocate'; file: string; page: number; pages: number; keep_size: boolean })
  | (OpBase & { kind: 'fsync'; file: string })
  | (OpBase & { kind: 'msync'; map: string })
  | (OpBase & { kind: 'munmap'; map: string })
  | (OpBase & { kind: 'pin'; map: string; page: number; longterm: boolean; write: boolean; as: string; fast: boolean })
  | (OpBase & { kind: 'dma'; pin: string; value: PageValue })
  | (OpBase & { kind: 'unpin'; pin: string })
  | (OpBase & { kind: 'poison'; file: string; page: number })
  | (OpBase & { kind: 'clear'; file: string; page: number });

export type OpKind = Op['kind'];

export const OP_KINDS: readonly OpKind[] = [
  'fault', 'load', 'store', 'read', 'write', 'truncate', 'punch', 'fsync', 'msync',
  'munmap', 'pin', 'dma', 'unpin', 'poison', 'clear', 'fallocate',
];

export interface ThreadSpec {
  name: string;
  ops: Op[];
  pos: Pos;
}

export interface FinalSpec {
  crash: boolean;
  /** file -> page -> expected content */
  files: Map<string, Map<number, PageValue>>;
  /** file -> pages that must have a block (an extent) after the run and crash: metadata durability, as generic/470 checks it */
  allocated: Map<string, number[]>;
  pos: Pos;
  crashPos?: Pos;
}

export interface ExpectEntry {
  /** profile name as written (a key of the `expect:` block) */
  kernel: string;
  /** `clean`, or the invariant ids each seen in some schedule */
  verdict: 'clean' | string[];
  pos: Pos;
}

export interface Scenario {
  /** path as given on the command line */
  file: string;
  name: string;
  description: string;
  refs: string[];
  kernel: KernelSpec | null;
  fs: FsName;
  fsPos?: Pos;
  files: FileSetup[];
  maps: MapSetup[];
  badblocks: BadBlock[];
  /** setup.partition_offset: where the filesystem's partition starts on the pmem device, in bytes (a multiple of 512) */
  partitionOffset?: number;
  partitionOffsetPos?: Pos;
  /**
   * setup.tlb_flush: how a remote TLB flush reaches the other CPUs. `ipi` (default: bare-metal
   * x86, smp_call_function_many() waits for every CPU, so for one with interrupts off too) or
   * `hypercall` (a paravirt flush that does not interrupt the other CPUs: Xen PV, Hyper-V with
   * HV_X64_REMOTE_TLB_FLUSH_RECOMMENDED, 2ffd9e33ce4a, v4.14).
   */
  tlbFlush?: TlbFlushMode;
  tlbFlushPos?: Pos;
  threads: ThreadSpec[];
  final: FinalSpec | null;
  expect: ExpectEntry[];
  pos: Pos;
  /** position of the `name:` key (reports point at it) */
  namePos?: Pos;
}

/** What the loader needs to know about the rest of daxsim (injected, so `scenario` imports nothing downstream). */
export interface Vocabulary {
  /** profile name -> the names of its behaviour flags */
  kernels: ReadonlyMap<string, ReadonlySet<string>>;
  invariantIds: ReadonlySet<string>;
}

/** Hard limits on input, each with a clear message when exceeded. */
export const LIMITS = {
  threads: 16,
  opsPerThread: 256,
  pagesPerFile: 1 << 20,
  files: 64,
  maps: 64,
  fileBytes: 1 << 20,
} as const;
