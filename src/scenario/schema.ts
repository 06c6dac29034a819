// JSON Schema (draft-07) of the scenario format v1 (DESIGN §3), for editors
// (`# yaml-language-server: $schema=...`) and `daxsim schema`. The loader
// (load.ts) is the authority; this schema mirrors it. Output is deterministic:
// keys are built in a fixed order and every enum is sorted.
import { FS_NAMES, IDENT_RE, KEBAB_RE, OP_ARGS, TOP_KEYS, naturalCompare } from './load.js';
import type { ArgSpec } from './load.js';
import { LIMITS, OP_KINDS, type OpKind, type Vocabulary } from './types.js';

type Schema = Record<string, unknown>;

const PAGE_KEY_PATTERN = '^(0|[1-9][0-9]*)$';

const OP_DOC: Readonly<Record<OpKind, { description: string; example: Record<string, unknown> }>> = {
  fault: {
    description:
      'A page fault on a mapping: a PTE fault, or a PMD fault when `huge` and the extent is eligible, falling back to PTE as the kernel does.',
    example: { map: 'm', page: 0, write: true },
  },
  load: {
    description: 'A CPU load through the mapping; faults first when the page is not mapped. Result: the value read, or a signal such as SIGBUS.',
    example: { map: 'm', page: 0, expect: ['X', 0] },
  },
  store: {
    description: 'A CPU store through the mapping; faults first when the page is not mapped; dirties a CPU cache line.',
    example: { map: 'm', page: 0, value: 'X' },
  },
  read: {
    description:
      'read(2) of `pages` pages (default one) of the DAX file (dax_do_io / dax_iomap_rw). Result: the value read, the values of several pages joined by single spaces (e.g. `X 0`), EOF when nothing was read, or an error such as EIO.',
    example: { file: 'a', page: 0 },
  },
  write: {
    description: 'write(2) of `value` to `pages` pages (default one) of the DAX file, in one call (dax_do_io / dax_iomap_rw).',
    example: { file: 'a', page: 0, value: 'W' },
  },
  truncate: {
    description: 'truncate(2) to `pages` pages with the filesystem\'s locks: unmap, then free the blocks beyond the new size.',
    example: { file: 'a', pages: 0 },
  },
  punch: {
    description: 'fallocate(FALLOC_FL_PUNCH_HOLE) of `pages` pages starting at `page`.',
    example: { file: 'a', page: 0, pages: 1 },
  },
  fsync: {
    description: 'fsync(2) of the file: dax_writeback_mapping_range and its cache flushes.',
    example: { file: 'a' },
  },
  msync: {
    description: 'msync(MS_SYNC) of the whole mapping: dax_writeback_mapping_range and its cache flushes.',
    example: { map: 'm' },
  },
  munmap: {
    description: 'munmap(2) of the whole mapping.',
    example: { map: 'm' },
  },
  pin: {
    description:
      'get_user_pages() (get_user_pages_longterm() when `longterm`, get_user_pages_fast() when `fast`) of one page of the mapping, as a driver does before DMA. Result: a pin handle named by `as`, or an error such as EOPNOTSUPP.',
    example: { map: 'm', page: 0, longterm: true, as: 'p0' },
  },
  dma: {
    description: 'A device write of `value` through a pinned page.',
    example: { pin: 'p0', value: 'D' },
  },
  unpin: {
    description: 'put_page() of a pinned page: releases the pin.',
    example: { pin: 'p0' },
  },
  poison: {
    description: 'A media error (poison) appears in the block backing the page.',
    example: { file: 'a', page: 0 },
  },
  clear: {
    description: 'The media error in the block backing the page is cleared.',
    example: { file: 'a', page: 0 },
  },
  fallocate: {
    description:
      'fallocate(2) mode 0 (posix_fallocate): allocate unwritten extents for `pages` pages from `page` and, unless `keep_size` (FALLOC_FL_KEEP_SIZE), extend i_size over them.',
    example: { file: 'a', page: 1, pages: 1 },
  },
};

function argDescription(op: OpKind, arg: ArgSpec): string {
  switch (`${op}.${arg.name}`) {
    case 'fault.write':
      return 'A write fault (default false: a read fault).';
    case 'fault.huge':
      return 'Try a PMD (2 MiB) fault first, falling back to PTE (default false).';
    case 'pin.write':
      return 'Pin for writing, FOLL_WRITE (default false).';
    case 'pin.longterm':
      return 'Use get_user_pages_longterm(), which refuses filesystem-DAX pages from v4.9.140 (default false).';
    case 'pin.fast':
      return 'Use get_user_pages_fast(), as direct I/O does: a lockless page-table walk that re-checks the PTE after taking its reference, falling back to get_user_pages() (default false; modelled from v4.14).';
    case 'truncate.pages':
      return 'The new file size, in pages.';
    case 'punch.pages':
      return 'The number of pages to punch (default 1).';
    case 'write.value':
      return 'The content written: a short string token, or 0 for zeros (or give `from`).';
    case 'write.from':
      return 'Copy the data from a page of a mapping instead of `value`: copy_from_user() loads it, faulting the page in under the write\'s locks.';
    case 'read.into':
      return 'Copy the data into a page of a mapping: copy_to_user() stores it, faulting the page in (a write fault) under the read\'s locks.';
    case 'read.pages':
      return 'The number of pages read in one call (default 1); more than one needs the dax_iomap_rw path (v4.10+).';
    case 'write.pages':
      return 'The number of pages written in one call, each with `value` (default 1); more than one needs the dax_iomap_rw path (v4.10+).';
    case 'fallocate.pages':
      return 'The number of pages to allocate (default 1).';
    case 'fallocate.keep_size':
      return 'FALLOC_FL_KEEP_SIZE: allocate without changing i_size (default false).';
  }
  switch (arg.kind) {
    case 'map':
      return 'Name of a mapping defined in setup.maps.';
    case 'file':
      return 'Name of a file defined in setup.files.';
    case 'pin':
      return 'Name of a pin created by the `as:` of a pin operation (in any thread).';
    case 'name':
      return 'Name of the resulting pin, used by dma and unpin; unique in the scenario.';
    case 'page':
      return 'Page index in the file; an index beyond the end of the file is legal (the kernel answers SIGBUS or an error).';
    case 'value':
      return 'The content written: a short string token, or 0 for zeros.';
    default:
      return `The ${arg.name} argument.`;
  }
}

function identifier(description: string): Schema {
  return { description, type: 'string', pattern: IDENT_RE.source };
}

function pageIndex(description: string): Schema {
  return { description, type: 'integer', minimum: 0, maximum: LIMITS.pagesPerFile - 1 };
}

function bool(description: string): Schema {
  return { description, type: 'boolean', default: false };
}

function ref(name: string, description: string): Schema {
  return { description, allOf: [{ $ref: `#/definitions/${name}` }] };
}

function argSchema(op: OpKind, arg: ArgSpec): Schema {
  const description = argDescription(op, arg);
  switch (arg.kind) {
    case 'map':
    case 'file':
    case 'pin':
    case 'name':
      return identifier(description);
    case 'page':
      return pageIndex(description);
    case 'pages':
      return { description, type: 'integer', minimum: 0, maximum: LIMITS.pagesPerFile };
    case 'count':
      return { description, type: 'integer', minimum: 1, maximum: LIMITS.pagesPerFile, default: 1 };
    case 'bool':
      return bool(description);
    case 'value':
      return ref('pageValue', description);
    case 'userbuf':
      return {
        description,
        type: 'object',
        required: ['map', 'page'],
        additionalProperties: false,
        properties: { map: identifier('Name of a mapping defined in setup.maps.'), page: pageIndex('Page index in the mapped file.') },
      };
  }
}

function opDefinition(op: OpKind): Schema {
  const specs = OP_ARGS[op];
  const properties: Schema = {};
  for (const s of specs) properties[s.name] = argSchema(op, s);
  properties.expect = ref(
    'results',
    'Allowed result(s) of this operation: a word such as ok, SIGBUS, EIO or EOPNOTSUPP, or a page value; any other result is an unexpected-result violation.',
  );
  return {
    description: OP_DOC[op].description,
    type: 'object',
    required: specs.filter((s) => s.required).map((s) => s.name),
    additionalProperties: false,
    properties,
    examples: [OP_DOC[op].example],
  };
}

/** The JSON Schema (draft-07) of a scenario file, with the vocabulary's kernel profiles and invariant ids. */
export function scenarioSchema(vocab: Vocabulary): object {
  const profiles = [...vocab.kernels.keys()].sort(naturalCompare);
  const ids = [...vocab.invariantIds].sort(naturalCompare);
  const allFlags = [...new Set(profiles.flatMap((p) => [...(vocab.kernels.get(p) ?? [])]))].sort(naturalCompare);

  const flagProperties: Schema = {
    base: ref('profile', 'The kernel profile the flags override.'),
  };
  for (const f of allFlags) flagProperties[f] = { description: `Override of the behaviour flag ${f}.`, type: 'boolean' };

  const opProperties: Schema = {};
  for (const op of OP_KINDS) opProperties[op] = { $ref: `#/definitions/op_${op}` };

  const expectProperties: Schema = {};
  for (const p of profiles) {
    expectProperties[p] = ref('verdict', `The verdict expected on kernel ${p}.`);
  }

  const definitions: Schema = {
    identifier: identifier('A name: a letter or _ followed by letters, digits, _ or -.'),
    pageValue: {
      description: 'Page content: a short string token, or 0 for zeros.',
      anyOf: [{ type: 'string', minLength: 1 }, { const: 0 }],
      examples: ['X', 0],
    },
    results: {
      description: 'An allowed result, or a list of allowed results.',
      anyOf: [
        { $ref: '#/definitions/result' },
        { type: 'array', minItems: 1, items: { $ref: '#/definitions/result' } },
      ],
      examples: ['ok', 'SIGBUS', ['X', 0]],
    },
    result: {
      description: 'A result: a word such as ok, SIGBUS, EIO or EOPNOTSUPP, or a value.',
      anyOf: [{ type: 'string', minLength: 1 }, { type: 'number' }],
      examples: ['ok', 'SIGBUS', 'EIO', 'EOPNOTSUPP', 'X', 0],
    },
    profile: {
      description: 'A kernel profile name (`daxsim kernels` lists them).',
      type: 'string',
      enum: profiles,
    },
    kernel: {
      description:
        'The default kernel profile (--kernel overrides it): a profile name, or {base: <profile>, <flag>: <bool>...} to override behaviour flags of that profile.',
      anyOf: [
        { $ref: '#/definitions/profile' },
        {
          description: 'A kernel profile with behaviour-flag overrides.',
          type: 'object',
          required: ['base'],
          additionalProperties: false,
          properties: flagProperties,
          allOf: profiles.map((p) => ({
            if: { required: ['base'], properties: { base: { const: p } } },
            then: { propertyNames: { enum: ['base', ...[...(vocab.kernels.get(p) ?? [])].sort(naturalCompare)] } },
          })),
        },
      ],
      examples: [profiles[0] ?? 'v4.7', { base: profiles[profiles.length - 1] ?? 'v4.7' }],
    },
    file: {
      description: 'A file on the DAX filesystem.',
      type: 'object',
      required: ['pages'],
      additionalProperties: false,
      properties: {
        pages: {
          description: 'i_size in pages; pages not listed in written or unwritten are holes.',
          type: 'integer',
          minimum: 0,
          maximum: LIMITS.pagesPerFile,
          examples: [2],
        },
        written: {
          description: 'Pages that have a block, and its content: page index -> page value.',
          type: 'object',
          propertyNames: { pattern: PAGE_KEY_PATTERN },
          additionalProperties: { $ref: '#/definitions/pageValue' },
          examples: [{ 0: 'B' }],
        },
        unwritten: {
          description: 'Pages that are allocated as unwritten extents (read as zeros).',
          type: 'array',
          uniqueItems: true,
          items: pageIndex('A page index below `pages`.'),
          examples: [[1]],
        },
        huge: bool('Allocate 2 MiB-aligned extents, so that PMD faults are possible (default false).'),
      },
    },
    map: {
      description: 'An mmap(2) of the whole file.',
      type: 'object',
      required: ['file'],
      additionalProperties: false,
      properties: {
        file: identifier('Name of the file mapped, from setup.files.'),
        private: bool('MAP_PRIVATE instead of MAP_SHARED (default false).'),
        sync: bool('MAP_SYNC (default false).'),
        readonly: bool('PROT_READ only (default false: PROT_READ | PROT_WRITE): a store gets SIGSEGV, a write pin EFAULT.'),
      },
    },
    badblock: {
      description: 'A media error present before the threads start.',
      type: 'object',
      required: ['file', 'page'],
      additionalProperties: false,
      properties: {
        file: identifier('Name of a file from setup.files.'),
        page: pageIndex('A page index below the file\'s `pages`.'),
      },
      examples: [{ file: 'b', page: 0 }],
    },
    setup: {
      description: 'The state before the threads start.',
      type: 'object',
      additionalProperties: false,
      properties: {
        files: {
          description: 'Files by name.',
          type: 'object',
          maxProperties: LIMITS.files,
          propertyNames: { pattern: IDENT_RE.source },
          additionalProperties: { $ref: '#/definitions/file' },
        },
        maps: {
          description: 'Mappings by name.',
          type: 'object',
          maxProperties: LIMITS.maps,
          propertyNames: { pattern: IDENT_RE.source },
          additionalProperties: { $ref: '#/definitions/map' },
        },
        badblocks: {
          description: 'Media errors present at the start.',
          type: 'array',
          items: { $ref: '#/definitions/badblock' },
        },
        partition_offset: {
          description: 'Where the partition holding the filesystem starts on the pmem device, in bytes (a multiple of 512). DAX needs it page-aligned (4096); v4.7+ refuses mount -o dax otherwise.',
          type: 'integer',
          minimum: 0,
          maximum: 2 ** 40,
          multipleOf: 512,
          examples: [0, 512],
        },
        tlb_flush: {
          description: 'How remote TLB flushes reach the other CPUs: ipi (default; bare-metal x86: the flusher waits for every CPU, so for a get_user_pages_fast() walk running with interrupts off) or hypercall (a paravirt flush that does not interrupt the other CPUs, as in a Xen PV guest or a Hyper-V guest with the hypercall flush, 2ffd9e33ce4a).',
          enum: ['ipi', 'hypercall'],
          default: 'ipi',
        },
      },
    },
    thread: {
      description: 'A thread: its operations, run in order.',
      type: 'array',
      minItems: 1,
      maxItems: LIMITS.opsPerThread,
      items: { $ref: '#/definitions/op' },
    },
    op: {
      description: 'One operation: a mapping with exactly one key, the operation name, whose value holds its arguments.',
      type: 'object',
      minProperties: 1,
      maxProperties: 1,
      additionalProperties: false,
      properties: opProperties,
    },
    final: {
      description: 'What must hold after all threads finish.',
      type: 'object',
      additionalProperties: false,
      properties: {
        crash: bool('A power failure after all threads finish: only durable content survives (default false).'),
        files: {
          description: 'Expected content per file and page after the run (and crash): file -> page index -> page value.',
          type: 'object',
          propertyNames: { pattern: IDENT_RE.source },
          additionalProperties: {
            type: 'object',
            propertyNames: { pattern: PAGE_KEY_PATTERN },
            additionalProperties: { $ref: '#/definitions/pageValue' },
          },
          examples: [{ a: { 0: 'X' } }],
        },
        allocated: {
          description: 'Pages that must have a block allocated after the run (and crash), per file: the block map is what survives, whatever the data (generic/470 checks only this).',
          type: 'object',
          propertyNames: { pattern: IDENT_RE.source },
          additionalProperties: { type: 'array', items: { type: 'integer', minimum: 0 }, uniqueItems: true },
          examples: [{ a: [0, 1] }],
        },
      },
    },
    verdict: {
      description:
        '`clean`: no schedule shows any violation (herd7 Never); or a list of invariant ids, each seen in some schedule and no other id (Sometimes).',
      anyOf: [
        { const: 'clean' },
        { type: 'array', minItems: 1, uniqueItems: true, items: { $ref: '#/definitions/invariantId' } },
      ],
      examples: ['clean', [ids[0] ?? 'fault-sigbus']],
    },
    invariantId: {
      description: 'An invariant id (`daxsim invariants` lists them).',
      type: 'string',
      enum: ids,
    },
  };
  for (const op of OP_KINDS) definitions[`op_${op}`] = opDefinition(op);

  const topProperties: Record<(typeof TOP_KEYS)[number], Schema> = {
    name: {
      description: 'The scenario name, kebab-case.',
      type: 'string',
      pattern: KEBAB_RE.source,
      examples: ['write-fault-vs-read-fault-hole'],
    },
    description: { description: 'What the scenario shows, in a sentence or two.', type: 'string' },
    refs: {
      description: 'Kernel commits or threads the scenario follows.',
      type: 'array',
      items: { description: 'A commit id and subject, or a link.', anyOf: [{ type: 'string' }, { type: 'number' }] },
      examples: [['ac401cc78242 dax: New fault locking']],
    },
    kernel: { $ref: '#/definitions/kernel' },
    fs: {
      description: 'The filesystem whose locks wrap the DAX paths (default ext4).',
      type: 'string',
      enum: [...FS_NAMES],
      default: 'ext4',
    },
    setup: { $ref: '#/definitions/setup' },
    threads: {
      description: 'The threads by name; each is a list of operations.',
      type: 'object',
      minProperties: 1,
      maxProperties: LIMITS.threads,
      propertyNames: { pattern: IDENT_RE.source },
      additionalProperties: { $ref: '#/definitions/thread' },
    },
    final: { $ref: '#/definitions/final' },
    expect: {
      description: 'The expected verdict per kernel profile.',
      type: 'object',
      additionalProperties: false,
      properties: expectProperties,
      examples: [{ [profiles[0] ?? 'v4.6']: ['fault-sigbus'], [profiles[1] ?? 'v4.7']: 'clean' }],
    },
  };

  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'daxsim scenario (format v1)',
    description: 'A race scenario for the Linux filesystem-DAX stack: threads of operations run under a seeded, deterministic scheduler.',
    type: 'object',
    required: ['name', 'threads'],
    additionalProperties: false,
    properties: topProperties,
    definitions,
  };
}
