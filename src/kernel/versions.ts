// Kernel profiles: each is a set of named behaviour flags; each flag names the
// commit that introduced the mechanism it switches and what that mechanism is.
// A flag never means "bug X on/off": it selects which code path the model runs.

export interface FlagInfo {
  /** the commit that introduced the behaviour (12-hex upstream id and subject) */
  commit: string;
  /** first release that has it */
  since: string;
  /** what the model does differently when the flag is on */
  mechanism: string;
  /** the commit that took the behaviour out again, when a later profile turns it off */
  removed?: string;
}

export const FLAGS = {
  ext4_i_mmap_sem: {
    commit: 'ea3d7209ca01 ext4: fix races between page faults and hole punching',
    since: 'v4.5',
    mechanism: 'ext4 faults take EXT4_I(inode)->i_mmap_sem for read; truncate and punch hole take it for write around unmapping and freeing blocks',
  },
  dax_entry_lock: {
    commit: 'ac401cc78242 dax: New fault locking',
    since: 'v4.7',
    mechanism: 'exceptional radix-tree entries carry RADIX_DAX_ENTRY_LOCK; faults lock the entry with grab_mapping_entry() (waiters sleep exclusively on the hashed wait_table) before get_block and hold it until the mapping is installed; hole pages are replaced under the entry lock',
  },
  dax_fault_i_mmap_lock: {
    commit: '0f90cc6609c7 mm, dax: fix DAX deadlocks',
    since: 'v4.3',
    removed: '4d9a2c874667 dax: Remove i_mmap_lock protection (v4.7)',
    mechanism: 'the DAX fault path takes mapping->i_mmap_rwsem around block lookup and PTE insertion and re-checks i_size under it',
  },
  dax_pmd_broken: {
    commit: '348e967ab07c dax: Make huge page handling depend of CONFIG_BROKEN',
    since: 'v4.7',
    mechanism: 'CONFIG_FS_DAX_PMD depends on BROKEN: every PMD fault falls back to PTEs',
  },
} as const satisfies Record<string, FlagInfo>;

export type FlagName = keyof typeof FLAGS;
export type Flags = Record<FlagName, boolean>;

export interface Profile {
  name: string;
  summary: string;
  flags: Flags;
}

const V4_6: Flags = {
  ext4_i_mmap_sem: true,
  dax_entry_lock: false,
  dax_fault_i_mmap_lock: true,
  dax_pmd_broken: false,
};

export const PROFILES: readonly Profile[] = [
  { name: 'v4.6', summary: 'before entry locking: get_block-based __dax_fault, hole pages in the page cache, i_mmap_lock in the fault path', flags: V4_6 },
  {
    name: 'v4.7',
    summary: 'DAX entry locking (ac401cc78242), i_mmap_lock dropped from faults (4d9a2c874667), PMD faults disabled (348e967ab07c)',
    flags: { ...V4_6, dax_entry_lock: true, dax_fault_i_mmap_lock: false, dax_pmd_broken: true },
  },
];

export function findProfile(name: string): Profile | undefined {
  return PROFILES.find((p) => p.name === name);
}

/** The profile with the scenario's or the command line's overrides applied. */
export function resolveFlags(base: Profile, overrides: Record<string, boolean>): Flags {
  const f: Flags = { ...base.flags };
  for (const [k, v] of Object.entries(overrides)) {
    if (!(k in FLAGS)) throw new Error(`unknown flag ${k}`);
    f[k as FlagName] = v;
  }
  return f;
}

/** name -> flag names, for the scenario loader's vocabulary. */
export function kernelVocabulary(): Map<string, Set<string>> {
  const m = new Map<string, Set<string>>();
  for (const p of PROFILES) m.set(p.name, new Set(Object.keys(FLAGS)));
  return m;
}
