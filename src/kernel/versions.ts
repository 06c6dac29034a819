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
  ext2_dax_sem: {
    commit: '5726b27b09cc ext2: Add locking for DAX faults',
    since: 'v4.5',
    mechanism: 'ext2 faults and pfn_mkwrite take EXT2_I(inode)->dax_sem for read; truncate (ext2_setsize()) takes it for write around i_size, the page-cache drop and the block free',
  },
  ext2_dax_iomap: {
    commit: '"ext2: use iomap to implement DAX" (Christoph Hellwig; upstream id not verified here — store id 32073903 is the v4.9 fs/ext2/file.c that has it)',
    since: 'v4.9',
    mechanism: 'ext2_dax_fault() calls dax_iomap_fault() with ext2_iomap_ops (ext2_iomap_begin() -> ext2_get_blocks()) instead of dax_fault() with ext2_get_block, under the same dax_sem; ext2_dax_pfn_mkwrite() calls the v4.9+ dax_pfn_mkwrite()',
  },
  ext2_dax_new_blocks: {
    commit: 'e568df6b84ff ext2: Return BH_New buffers for zeroed blocks',
    since: 'v4.10',
    mechanism: 'ext2_get_blocks() reports a block it allocated and zeroed for a DAX inode as new (*new = true, BH_New), so ext2_iomap_begin() sets IOMAP_F_NEW and dax_iomap_actor() invalidates the page cache (hole pages) over it before write(2) copies; before, the DAX branch hid the new flag',
  },
  xfs_mmaplock: {
    commit: '653c60b633a9 xfs: introduce mmap/truncate lock (id from memory, not verified)',
    since: 'v4.1',
    mechanism: 'XFS faults, page_mkwrite and pfn_mkwrite take XFS_MMAPLOCK_SHARED; truncate (xfs_vn_setattr()) and fallocate (xfs_file_fallocate()) take XFS_MMAPLOCK_EXCL after XFS_IOLOCK_EXCL, around the page-cache drop and the extent free',
  },
  xfs_iolock_is_i_rwsem: {
    commit: '65523218fa5a xfs: remove i_iolock and use i_rwsem in the VFS inode instead (id from memory, not verified)',
    since: 'v4.10',
    mechanism: 'XFS_IOLOCK is the VFS inode->i_rwsem (so truncate\'s inode_lock() in do_truncate() is the iolock); before, XFS_IOLOCK is XFS\'s own i_iolock rwsem, taken by xfs_vn_setattr() and xfs_file_fallocate() inside (truncate) or without (fallocate) inode_lock',
  },
  xfs_dax_iomap_rw: {
    commit: '"xfs: use iomap to implement DAX" (Christoph Hellwig, the XFS half of a254e5681288 "dax: provide an iomap based DAX read/write path"; upstream id not verified, 68a9f5e3770a unconfirmed) with 17879e8f865f xfs: fix locking for DAX writes',
    since: 'v4.9',
    mechanism: 'XFS read(2)/write(2) on a DAX inode go through xfs_file_dax_read() (XFS_IOLOCK_SHARED) and xfs_file_dax_write() (XFS_IOLOCK_EXCL across xfs_file_aio_write_checks(), dax_iomap_rw() and the i_size update with xfs_setfilesize()) to dax_iomap_rw() with xfs_iomap_ops, whose IOMAP_WRITE allocates zeroed written extents (xfs_iomap_write_direct()); before (v4.6-v4.8), the direct-I/O shape: xfs_file_dio_aio_write() with the IOLOCK shared for aligned writes, the whole-file flush and invalidation when the mapping has pages, and dax_do_io() with xfs_get_blocks_direct',
  },
  dax_rw_invalidate_new_extents: {
    commit: 'e3fce68cdbed dax: Avoid page invalidation races and unnecessary radix tree traversals',
    since: 'v4.10',
    mechanism: 'dax_iomap_actor() runs invalidate_inode_pages2_range() over an extent ->iomap_begin() reported IOMAP_F_NEW, after the allocation, when the mapping has pages; before (v4.8-v4.9), dax_iomap_rw() ran it over the whole I/O range before any block lookup whenever the mapping had pages, for reads too, with the invalidation that deletes DAX entries whether dirty or not',
  },
  xfs_pfn_mkwrite_full_fault: {
    commit: '"xfs: Implement xfs_filemap_pfn_mkwrite() using __xfs_filemap_fault()" (Jan Kara, MAP_SYNC series; subject from memory, upstream id not verified; the plan is in mail store id 16611412260)',
    since: 'v4.15',
    mechanism: 'xfs_filemap_pfn_mkwrite() is __xfs_filemap_fault(vmf, PE_SIZE_PTE, true): a write to a read-only DAX PTE is a full write fault (sb_start_pagefault(), MMAPLOCK_SHARED, dax_iomap_fault() with IOMAP_WRITE, dax_finish_sync_fault() on VM_FAULT_NEEDDSYNC); before (v4.14), it checked i_size under MMAPLOCK_SHARED itself and called dax_iomap_fault() (v4.6-v4.13: dax_pfn_mkwrite())',
  },
  xfs_map_sync: {
    commit: '"xfs: support for synchronous DAX faults" (Christoph Hellwig, [PATCH 18/18] of the MAP_SYNC series, store id 16436262826; upstream id not verified)',
    since: 'v4.15',
    mechanism: 'xfs_file_mmap() accepts MAP_SYNC on a DAX inode (.mmap_supported_flags = MAP_SYNC); xfs_file_iomap_begin() reports IOMAP_F_DIRTY for IOMAP_WRITE while the inode is pinned in the log with fsync-relevant fields (xfs_ipincount() && ili_fsync_fields & ~XFS_ILOG_TIMESTAMP); __xfs_filemap_fault() calls dax_finish_sync_fault() on VM_FAULT_NEEDDSYNC, still under XFS_MMAPLOCK_SHARED',
  },
  xfs_break_dax_layouts: {
    commit: '"xfs: prepare xfs_break_layouts() to be called with XFS_MMAPLOCK_EXCL" and "xfs, dax: introduce xfs_break_dax_layouts()" (Dan Williams, the "dax: fix dma vs truncate/hole-punch" series with 5fac7408d828; upstream ids not verified; the diff is store id 28743465173)',
    since: 'v4.18',
    mechanism: 'xfs_vn_setattr(ATTR_SIZE) and xfs_file_fallocate() take XFS_MMAPLOCK_EXCL together with XFS_IOLOCK_EXCL and then call xfs_break_layouts(BREAK_UNMAP): while dax_layout_busy_page() finds a page with an elevated refcount, xfs_break_dax_layouts() drops MMAPLOCK_EXCL, sleeps in ___wait_var_event() until the refcount is 1, retakes it and looks again; before, xfs_break_layouts() only recalled pNFS layouts, and MMAPLOCK_EXCL was taken after it',
  },
  dax_zeroout_through_driver: {
    commit: '3dc29161070a dax: use sb_issue_zerout instead of calling dax_clear_sectors (id from memory, not verified)',
    since: 'v4.7',
    mechanism: 'ext2 and XFS zero newly allocated DAX blocks with sb_issue_zeroout()/blkdev_issue_zeroout(), block I/O through the pmem driver, whose write path clears poison (pmem_clear_poison()) and the badblocks entry; before, dax_clear_sectors() zeroed them with the CPU (clear_pmem()), which leaves a media error in place',
  },
  dax_direct_access_badblocks: {
    commit: '0a70bd430533 dax: enable dax in the presence of known media errors (badblocks)',
    since: 'v4.7',
    mechanism: 'pmem_direct_access() returns -EIO for a range that overlaps a known bad block (is_bad_pmem()), so dax_map_atomic() fails and a DAX fault gets SIGBUS, read(2)/write(2) EIO, instead of the CPU touching the poisoned media; before, direct_access() never looked at the badblocks list',
  },
  bdev_dax_supported_mount_check: {
    commit: '"block: Add bdev_dax_supported() for dax mount checks" (Toshi Kani; id not verified) with the ext2/ext4/xfs "Add alignment check for DAX mount" patches',
    since: 'v4.7',
    mechanism: 'mount -o dax calls bdev_dax_supported(): bdev_direct_access() of the first page of the partition fails with -EINVAL for a partition whose start is not page-aligned, so ext2/ext4 refuse the mount and XFS turns DAX off; before, the mount only checked that the driver has ->direct_access, and every DAX access then failed with -EINVAL',
  },
  memory_failure_dev_pagemap: {
    commit: '6100e34b2526 mm, memory_failure: Teach memory_failure() about dev_pagemap pages',
    since: 'v4.19',
    mechanism: 'a machine check on a filesystem-DAX page consumed from user space goes to memory_failure_dev_pagemap(): the page is unmapped from every mapping of the file (unmap_mapping_range()) and the task gets SIGBUS with BUS_MCEERR_AR; before, memory_failure() treats the ZONE_DEVICE page as a reserved kernel page ("recovery action for reserved kernel page: Failed"), the MCE handler sends a plain SIGBUS and the poisoned page stays mapped',
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
  dax_cow_entry_lock: {
    commit: 'bc2466e42573 dax: Use radix tree entry lock to protect cow faults',
    since: 'v4.7',
    mechanism: 'a COW fault on a private mapping returns from the DAX handler with the entry still locked (VM_FAULT_DAX_LOCKED, vmf->entry) and do_cow_fault() unlocks it with dax_unlock_mapping_entry() after installing the COW page; before, the handler unlocked the entry and (when the fault path takes i_mmap_lock, dax_fault_i_mmap_lock) took i_mmap_lock_read for do_cow_fault() to drop',
  },
  dax_cow_finish_fault: {
    commit: 'b1aa812b2108 mm: move handling of COW faults into DAX code',
    since: 'v4.10',
    mechanism: 'the DAX fault handler installs the COW page itself with finish_fault() under the entry lock and returns VM_FAULT_DONE_COW; VM_FAULT_DAX_LOCKED and vmf->entry are gone',
  },
  ext4_dax_cow_fault_not_write: {
    commit: 'fd96b8da68d3 ext4: fix fault handling when mounted with -o dax,ro',
    since: 'v4.12',
    mechanism: 'ext4_dax_huge_fault() treats a fault as a write (sb_start_pagefault(), file_update_time(), a jbd2 handle) only for FAULT_FLAG_WRITE on a VM_SHARED mapping; a COW fault on a private mapping takes i_mmap_sem for read like a read fault. Before, every FAULT_FLAG_WRITE fault did (a fix for a 4.11.1 regression; the release is from the stable notes, not verified in a tree)',
  },
  dax_fault_unwritten_create: {
    commit: 'aef39ab1534d dax: Call get_blocks() with create == 1 for write faults to unwritten extents',
    since: 'v4.7',
    mechanism: 'the get_block DAX fault calls get_block(create = 1) for a write fault whenever the buffer is not mapped (`!buffer_mapped(&bh)`), so an unwritten extent is converted; before, the test was `!buffer_mapped(&bh) && !buffer_unwritten(&bh)` and an unwritten buffer went to dax_insert_mapping() unconverted',
  },
  dax_pmd_broken: {
    commit: '348e967ab07c dax: Make huge page handling depend of CONFIG_BROKEN',
    since: 'v4.7',
    mechanism: 'CONFIG_FS_DAX_PMD depends on BROKEN: every PMD fault falls back to PTEs',
  },
  dax_get_block_pmd_fault_stub: {
    commit: '"dax: remove dax_pmd_fault()" (Ross Zwisler, in the series of 642261ac995e; upstream id not verified)',
    since: 'v4.9',
    mechanism: 'the get_block-based dax_pmd_fault() is a stub returning VM_FAULT_FALLBACK, so ext4 (on get_block until its iomap conversion in v4.10) has no PMD faults: ext4_dax_pmd_fault() takes its locks and falls back',
  },
  mm_pte_alloc_deferred: {
    commit: '7267ec008b5c mm: postpone page table allocation until we have page to map (version from memory: v4.8)',
    since: 'v4.8',
    mechanism: '__handle_mm_fault() no longer allocates the PTE page before handle_pte_fault(): a pmd_none() pmd leaves vmf->pte NULL and the page table is allocated where the PTE is set (alloc_set_pte() -> pte_alloc_one_map(), insert_pfn() -> get_locked_pte()); a present pmd is tested with pmd_trans_unstable() || pmd_devmap() in handle_pte_fault() and pte_alloc_one_map()',
  },
  mm_pmd_devmap_checked_first: {
    commit: '"mm: avoid spurious \'bad pmd\' warning messages" (Ross Zwisler, v4.12, Cc stable; upstream id believed d0f0931de936, not verified)',
    since: 'v4.12',
    mechanism: 'handle_pte_fault() and pte_alloc_one_map() test pmd_devmap() before pmd_trans_unstable(), whose pmd_none_or_trans_huge_or_clear_bad() prints "bad pmd" and clears a DAX PMD (pmd_bad() holds for it)',
  },
  dax_grab_unmap_before_preload: {
    commit: '0cb80b484755 dax: Fix sleep in atomic contex in grab_mapping_entry()',
    since: 'v4.10',
    mechanism: 'a PTE fault that downgrades a 2 MiB huge-zero entry unmaps the 2 MiB range (unmap_mapping_range(), i_mmap_rwsem) before radix_tree_preload() disables preemption, not after it',
  },
  dax_pmd_pte_collision_checks: {
    commit: 'e2093926a098 dax: Fix race between colliding PMD & PTE entries (first 9 digits verified by a blame; the rest believed)',
    since: 'v4.12',
    mechanism: 'after taking the entry lock, dax_iomap_pte_fault() returns VM_FAULT_NOPAGE if the pmd is pmd_trans_huge() or pmd_devmap(), and dax_iomap_pmd_fault() returns 0 if the pmd is a page table',
  },
  ext4_dax_io_prezero: {
    commit: '12735f881952 ext4: pre-zero allocated blocks for DAX IO',
    since: 'v4.7',
    mechanism: 'an ext4 DAX write(2) inside i_size maps its blocks with ext4_dax_get_block() (allocate pre-zeroed written blocks, convert and zero unwritten ones) before copying, instead of allocating unwritten extents (ext4_dio_get_block_unwritten_sync) and converting them with ext4_convert_unwritten_extents() after dax_io() returns',
  },
  dax_io_no_zeroing: {
    commit: '069c77bc9eae dax: Remove zeroing from dax_io()',
    since: 'v4.7',
    mechanism: 'dax_io() no longer zeroes the rest of a new or unwritten block around the I/O (dax_new_buf()); it WARNs when get_block returns a new block inside EOF or an unwritten one for a write',
  },
  dax_do_io_no_writeback: {
    commit: 'c3d98e39d5b3 dax: Remove pointless writeback from dax_do_io()',
    since: 'v4.7',
    mechanism: 'a DAX read(2) with DIO_LOCKING no longer runs filemap_write_and_wait_range() (the DAX cache flush of the range) under inode_lock inside dax_do_io()',
  },
  dax_radix_pmd_entries: {
    commit: '642261ac995e dax: add struct iomap based DAX PMD support',
    since: 'v4.9',
    mechanism: 'exceptional entries carry RADIX_DAX_PMD/HZP/EMPTY bits; grab_mapping_entry() takes a size flag and inserts a locked EMPTY entry of that size; dax_insert_mapping_entry() replaces only EMPTY and zero entries and leaves a real one in place; entry-lock waiters key on {mapping, entry_start}, PMD-aligned for PMD entries (63e95b5c4f16); PMD faults use them from v4.10 on ext4 (src/kernel/huge.ts)',
  },
  ext4_dax_iomap_fault: {
    commit: 'e2ae766c1b03 ext4: convert DAX faults to iomap infrastructure',
    since: 'v4.10',
    mechanism: 'ext4 faults call dax_iomap_fault() with ext4_iomap_begin()/ext4_iomap_end() (an IOMAP_WRITE fault allocates with EXT4_GET_BLOCKS_CREATE_ZERO in a handle of its own) instead of dax_fault() with ext4_dax_get_block()',
  },
  ext4_dax_fault_no_handle: {
    commit: '1db175428ee3 ext4: Simplify DAX fault path',
    since: 'v4.10',
    removed: '"ext4: Return back to starting transaction in ext4_dax_huge_fault()" (v4.12; id believed fb26a1cbed8c, not verified)',
    mechanism: 'ext4\'s DAX fault handler starts no jbd2 handle for a write fault; only ext4_iomap_begin() starts (and stops) one, around the allocation',
  },
  dax_iomap_begin_before_entry_lock: {
    commit: '9f141d6ef625 dax: Call ->iomap_begin without entry lock during dax fault',
    since: 'v4.10',
    removed: '13e451fdc1af dax: fix data corruption when fault races with write (v4.12)',
    mechanism: 'dax_iomap_fault() and dax_iomap_pmd_fault() call ->iomap_begin() before grab_mapping_entry() and ->iomap_end() after unlocking the entry, so they map what a block lookup made outside the entry lock returned (876f29460cbd reverted it for the PMD fault in v4.12)',
  },
  dax_load_hole_finish_fault: {
    commit: 'f449b936f1af dax: Finish fault completely when loading holes',
    since: 'v4.10',
    mechanism: 'dax_load_hole() maps the hole page itself (finish_fault()) and the DAX fault handler unlocks it, instead of returning it locked (VM_FAULT_LOCKED) for the generic fault code to map and unlock',
  },
  dax_hole_insert_wake_all: {
    commit: '965d004af540 dax: fix deadlock with DAX 4k holes',
    since: 'v4.10',
    mechanism: 'page_cache_tree_insert() wakes every waiter of the locked EMPTY entry that the new hole page replaces (wake-all), not one; also in 4.9.y (Cc: stable # 4.7+)',
  },
  dax_invalidate_entry_wake_one: {
    commit: 'c6dcf52c23d2 mm: Invalidate DAX radix tree entries only if appropriate',
    since: 'v4.10',
    mechanism: 'truncate deletes a DAX entry with __dax_invalidate_mapping_entry(trunc), which passes the wakeup on to one waiter (put_unlocked_mapping_entry() under tree_lock), instead of dax_delete_mapping_entry() waking all after dropping tree_lock',
  },
  dax_pfn_mkwrite_under_entry_lock: {
    commit: '2f89dc12a25d dax: protect PTE modification on WP fault by radix tree entry lock',
    since: 'v4.10',
    mechanism: 'dax_pfn_mkwrite() locks the entry, sets its dirty tag and makes the PTE writable (finish_mkwrite_fault()) before unlocking it; wp_pfn_shared() leaves the PTE alone after a VM_FAULT_NOPAGE ->pfn_mkwrite',
  },
  dax_writeback_entry_lock: {
    commit: 'a6abc2c0e77b dax: make cache flushing protected by entry lock',
    since: 'v4.10',
    mechanism: 'dax_writeback_one() waits for the entry lock (get_unlocked_mapping_entry()), compares sectors instead of raw slot values (lock bit included), and locks the entry and clears TOWRITE under tree_lock BEFORE flushing the cache, unlocking it afterwards; before, it compared *slot != entry, flushed with no entry lock and cleared TOWRITE only after the flush',
  },
  dax_writeback_clear_dirty: {
    commit: '4b4bb46d00b3 dax: clear dirty entry tags on cache flush',
    since: 'v4.10',
    mechanism: 'under the entry lock (needs dax_writeback_entry_lock), dax_writeback_one() write-protects and cleans every shared PTE of the pfn (dax_mapping_entry_mkclean() under i_mmap_lock_read) before wb_cache_pmem(), then clears the DIRTY tag; before, DIRTY was never cleared and PTEs stayed writable',
  },
  dax_mkclean_wrprotects_pmd: {
    commit: 'f729c8c9b24f dax: wrprotect pmd_t in dax_mapping_entry_mkclean (with 097963959594 mm: add follow_pte_pmd())',
    since: 'v4.10',
    mechanism: 'dax_mapping_entry_mkclean() looks the address up with follow_pte_pmd(): a huge PMD is returned under pmd_lock and, when it maps the entry\'s pfn and is dirty or writable, cleared, write-protected, cleaned and set back (pmdp_huge_clear_flush(), pmd_wrprotect(), pmd_mkclean(), set_pmd_at()), so the next store through it faults (wp_huge_pmd() -> ->pmd_fault) and re-dirties the entry; before, follow_pte() gave up on a huge pmd (pmd_bad()/pmd_huge()) and a DAX PMD stayed writable over an entry whose DIRTY tag was cleared',
  },
  ext4_dax_iomap_rw: {
    commit: '364443cbcfe7 ext4: convert DAX reads to iomap infrastructure; 776722e85d3b ext4: DAX iomap write support',
    since: 'v4.10',
    mechanism: 'ext4 read(2)/write(2) on a DAX inode go through ext4_dax_read_iter() (i_rwsem shared) / ext4_dax_write_iter() (i_rwsem exclusive, downgraded to shared for an overwrite of written blocks inside i_size) to dax_iomap_rw() with ext4_iomap_begin(IOMAP_WRITE) allocating zeroed written blocks and ext4_iomap_end() extending i_size; before, both went through the generic direct-I/O path to ext4\'s ->direct_IO and dax_do_io()',
  },
  ext4_dax_write_excl: {
    commit: 'ff5462e39ca1 ext4: fix DAX write locking',
    since: 'v4.11',
    mechanism: 'ext4_dax_write_iter() holds i_rwsem exclusive across the whole write; before, an overwrite of allocated written blocks (ext4_overwrite_io()) downgraded it to shared for dax_iomap_rw(), so overlapping overwrites and reads ran concurrently',
  },
  dax_invalidate_unmaps: {
    commit: 'cd656375f946 mm: Fix data corruption due to stale mmap reads (id from races-and-design.md 1.23, not re-verified)',
    since: 'v4.12',
    mechanism: 'dax_iomap_actor() calls invalidate_inode_pages2_range() for every IOMAP_F_NEW extent (not only when the mapping has page-cache pages), and invalidate_inode_pages2_range() ends with unmap_mapping_range() of the range for a DAX mapping, so page tables mapping hole pages or zero pages over newly allocated blocks are torn down',
  },
  dax_grab_relookup_after_preload: {
    commit: 'e11f8b7b6c4e dax: fix radix tree insertion race',
    since: 'v4.11',
    mechanism: 'grab_mapping_entry() looks the index up again after radix_tree_preload() and restarts if an entry appeared meanwhile, instead of relying on __radix_tree_insert() returning -EEXIST',
  },
  gup_longterm_refuses_fsdax: {
    commit: '2bb6d2837083 mm: introduce get_user_pages_longterm',
    since: 'v4.15',
    mechanism: 'get_user_pages_longterm() refuses a filesystem-DAX VMA with -EOPNOTSUPP (device-DAX is allowed); backported to 4.9.y by v4.9.140. The pages are taken first and put back (src/kernel/gup.ts)',
  },
  x86_gup_pte_allows_gup_first: {
    commit: 'ef947b2 x86, mm: fix gup_pte_range() vs DAX mappings (7-hex id as xfstests generic/462 cites it)',
    since: 'v4.11',
    mechanism: 'the x86 get_user_pages_fast() walk checks pte_allows_gup() (present, user, writable for a write) before taking a pte_devmap() page; before, a DAX PTE was taken without it, so a write pin of a read-only DAX mapping succeeded. Cc: stable; in the v4.9.140 profile as a 4.9.y backport (the 4.9.y release is not verified)',
  },
  gup_fast_generic: {
    commit: 'e585513b76f7 x86/mm/gup: Switch GUP to the generic get_user_page_fast() implementation',
    since: 'v4.13',
    mechanism: 'get_user_pages_fast() on x86 is the generic mm/gup.c walk: pte_access_permitted() first, a pte_special() PTE that is not devmap (the zero page) gives up, and after taking the reference the PTE is read again and the reference dropped if it changed; before, arch/x86/mm/gup.c took the reference without re-checking',
  },
  dax_map_sync: {
    commit: 'b6fb293f2497 mm: Define MAP_SYNC and VM_SYNC flags',
    since: 'v4.15',
    mechanism: 'mmap(MAP_SHARED_VALIDATE | MAP_SYNC) gives a VM_SYNC mapping (before it, MAP_SHARED_VALIDATE is an unknown map type and mmap fails with EINVAL); ext4_iomap_begin() reports IOMAP_F_DIRTY while the inode\'s datasync transaction is uncommitted; a write fault that allocates on a VM_SYNC mapping inserts a clean entry, maps nothing and returns VM_FAULT_NEEDDSYNC (caa51d26f85c dax, iomap: Add support for synchronous faults); ext4 then calls dax_finish_sync_fault(): vfs_fsync_range() of the page (commits the journal), and dax_insert_pfn_mkwrite() dirties and relocks the entry and maps the pfn writable',
  },
  dax_zero_page_holes: {
    commit: '91d25ba8a6b0 dax: use common 4k zero page for dax mmap reads',
    since: 'v4.14',
    mechanism: 'a read fault on a hole or unwritten extent inserts a locked 4k ZERO entry (RADIX_DAX_ZERO_PAGE) and maps the shared zero page read-only (vm_insert_mixed()) instead of a page-cache hole page; dax_insert_mapping_entry() unmaps the zero page before replacing a ZERO entry with a block; dax_pfn_mkwrite() is gone: ->pfn_mkwrite is the filesystem fault handler, and write faults map with vm_insert_mixed_mkwrite() (mm: add vm_insert_mixed_mkwrite(), same series)',
  },
  dax_page_association: {
    commit: 'd2c997c0f145 fs, dax: use page->mapping to warn if truncate collides with a busy page',
    since: 'v4.17',
    mechanism: 'entries hold pfns (3fe0791c295c dax: store pfns in the radix); dax_insert_mapping_entry() sets page->mapping/index of a new block entry (dax_associate_entry(), WARN_ON_ONCE(page->mapping)); deleting it clears them (dax_disassociate_entry(), WARN_ON_ONCE(trunc && page_ref_count(page) > 1))',
  },
  dax_layout_busy_page: {
    commit: '5fac7408d828 mm, fs, dax: handle layout changes to pinned dax mappings',
    since: 'v4.18',
    mechanism: 'dax_layout_busy_page() unmaps the whole file and returns the first page of a tree entry whose refcount is above 1; the last put_page() of a filesystem-DAX page calls generic_dax_pagefree() -> wake_up_var(&page->_refcount). XFS calls it in v4.18; ext4 from v4.19 (ext4_break_layouts)',
  },
  gup_fast_device_huge_recheck: {
    commit: '"mm: fix __gup_device_huge vs unmap" (Dan Williams, v11 3/7 of the series of 5fac7408d828, store id 30332495843; Fixes: 3565fce3a659, Cc stable; upstream id not verified)',
    since: 'v4.18',
    mechanism: 'get_user_pages_fast() on a DAX PMD (__gup_device_huge_pmd()) reads *pmdp again after taking the page references and, if it changed, drops them (undo_dev_pagemap()) and falls back to the slow path; before, the references taken on a PMD read before an unmap were kept, and only an x86 TLB-flush IPI waiting for the interrupts-off walk ordered them before the unmap returned',
  },
  dax_pmd_fault_size_round_up: {
    commit: '957ac8c421ad dax: fix PMD faults on zero-length files (Jeff Moyer, 14 Nov 2017; merged for v4.15 by its date, release not verified in a tree)',
    since: 'v4.15',
    mechanism: 'dax_iomap_pmd_fault() computes max_pgoff = DIV_ROUND_UP(i_size, PAGE_SIZE) and tests pgoff >= max_pgoff (SIGBUS) and (pgoff | PG_PMD_COLOUR) >= max_pgoff (fallback); before, max_pgoff = (i_size - 1) >> PAGE_SHIFT in an unsigned long, which for an empty file is ULONG_MAX, so a PMD fault on it neither gets SIGBUS nor falls back',
  },
  dax_layout_busy_page_pmd_index: {
    commit: 'd7782145e1ad filesystem-dax: Fix dax_layout_busy_page() livelock (id as Liu Bo\'s 4.19 posting cites it, store id 16905682398; Fixes: 5fac7408d828, Cc stable; release not verified, believed v4.20; the 4.19.y copy read, store id 3323916569, has it)',
    since: 'v4.20',
    mechanism: 'dax_layout_busy_page() steps past a 2 MiB entry at the end of a pagevec (index += 1 << dax_radix_order(entry)); before, it stepped one index, and the lookup from the next index found the same 2 MiB entry at its head index again, for ever. The v4.19 profile follows the 4.19.y copy, which has the backport',
  },
  ext4_break_layouts: {
    commit: '430657b6be89 ext4: handle layout changes to pinned DAX mappings',
    since: 'v4.19',
    mechanism: 'ext4 truncate and hole punch call ext4_break_layouts() with i_mmap_sem held for write before dropping the page cache: while dax_layout_busy_page() finds a busy page, drop i_mmap_sem, sleep in ___wait_var_event() until its refcount is 1, retake i_mmap_sem and look again',
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
  ext2_dax_sem: true,
  ext2_dax_iomap: false,
  ext2_dax_new_blocks: false,
  xfs_mmaplock: true,
  xfs_iolock_is_i_rwsem: false,
  xfs_dax_iomap_rw: false,
  dax_rw_invalidate_new_extents: false,
  xfs_pfn_mkwrite_full_fault: false,
  xfs_map_sync: false,
  xfs_break_dax_layouts: false,
  dax_zeroout_through_driver: false,
  dax_direct_access_badblocks: false,
  bdev_dax_supported_mount_check: false,
  memory_failure_dev_pagemap: false,
  dax_entry_lock: false,
  dax_fault_i_mmap_lock: true,
  dax_cow_entry_lock: false,
  dax_cow_finish_fault: false,
  dax_fault_unwritten_create: false,
  ext4_dax_cow_fault_not_write: false,
  dax_pmd_broken: false,
  dax_get_block_pmd_fault_stub: false,
  mm_pte_alloc_deferred: false,
  mm_pmd_devmap_checked_first: false,
  dax_grab_unmap_before_preload: false,
  dax_pmd_pte_collision_checks: false,
  dax_radix_pmd_entries: false,
  ext4_dax_iomap_fault: false,
  ext4_dax_fault_no_handle: false,
  dax_iomap_begin_before_entry_lock: false,
  dax_load_hole_finish_fault: false,
  dax_hole_insert_wake_all: false,
  dax_invalidate_entry_wake_one: false,
  dax_pfn_mkwrite_under_entry_lock: false,
  dax_writeback_entry_lock: false,
  dax_writeback_clear_dirty: false,
  dax_mkclean_wrprotects_pmd: false,
  ext4_dax_iomap_rw: false,
  ext4_dax_write_excl: false,
  dax_invalidate_unmaps: false,
  dax_grab_relookup_after_preload: false,
  gup_longterm_refuses_fsdax: false,
  dax_zero_page_holes: false,
  dax_map_sync: false,
  x86_gup_pte_allows_gup_first: false,
  gup_fast_generic: false,
  dax_page_association: false,
  dax_layout_busy_page: false,
  gup_fast_device_huge_recheck: false,
  dax_layout_busy_page_pmd_index: false,
  dax_pmd_fault_size_round_up: false,
  ext4_break_layouts: false,
  ext4_dax_io_prezero: false,
  dax_io_no_zeroing: false,
  dax_do_io_no_writeback: false,
};

const V4_7: Flags = {
  ...V4_6,
  dax_entry_lock: true,
  dax_fault_i_mmap_lock: false,
  dax_cow_entry_lock: true,
  dax_fault_unwritten_create: true,
  dax_pmd_broken: true,
  ext4_dax_io_prezero: true,
  dax_io_no_zeroing: true,
  dax_do_io_no_writeback: true,
  dax_zeroout_through_driver: true,
  dax_direct_access_badblocks: true,
  bdev_dax_supported_mount_check: true,
};
// ext4 still faults through the get_block-based dax_fault() in v4.9 (its iomap fault
// path is v4.10, e2ae766c1b03); CONFIG_FS_DAX_PMD no longer depends on BROKEN.
const V4_9: Flags = {
  ...V4_7,
  dax_pmd_broken: false,
  dax_radix_pmd_entries: true,
  ext2_dax_iomap: true,
  xfs_dax_iomap_rw: true,
  dax_get_block_pmd_fault_stub: true,
  mm_pte_alloc_deferred: true,
};
const V4_10: Flags = {
  ...V4_9,
  ext2_dax_new_blocks: true,
  ext4_dax_iomap_fault: true,
  ext4_dax_fault_no_handle: true,
  dax_cow_finish_fault: true,
  dax_iomap_begin_before_entry_lock: true,
  dax_load_hole_finish_fault: true,
  dax_hole_insert_wake_all: true,
  dax_invalidate_entry_wake_one: true,
  dax_pfn_mkwrite_under_entry_lock: true,
  xfs_iolock_is_i_rwsem: true,
  dax_rw_invalidate_new_extents: true,
  dax_writeback_entry_lock: true,
  dax_writeback_clear_dirty: true,
  dax_mkclean_wrprotects_pmd: true,
  ext4_dax_iomap_rw: true,
  dax_grab_unmap_before_preload: true,
};

// ext4_dax_write_excl is v4.11 (ff5462e39ca1); no v4.11 profile exists, so v4.12 is the first that has it
const V4_12: Flags = {
  ...V4_10,
  dax_iomap_begin_before_entry_lock: false,
  ext4_dax_fault_no_handle: false,
  dax_grab_relookup_after_preload: true,
  ext4_dax_cow_fault_not_write: true,
  ext4_dax_write_excl: true,
  dax_invalidate_unmaps: true,
  x86_gup_pte_allows_gup_first: true,
  mm_pmd_devmap_checked_first: true,
  dax_pmd_pte_collision_checks: true,
};
// v4.13's switch of x86 to the generic gup-fast (e585513b76f7) is in the next profile
const V4_14: Flags = { ...V4_12, dax_zero_page_holes: true, gup_fast_generic: true };
const V4_15: Flags = { ...V4_14, gup_longterm_refuses_fsdax: true, dax_map_sync: true, xfs_map_sync: true, xfs_pfn_mkwrite_full_fault: true, dax_pmd_fault_size_round_up: true };
// v4.17's pfn entries and page association (3fe0791c295c, d2c997c0f145) are in the next profile
// "mm: fix __gup_device_huge vs unmap" is v11 3/7 of the series of 5fac7408d828: both v4.18
const V4_18: Flags = { ...V4_15, dax_page_association: true, dax_layout_busy_page: true, xfs_break_dax_layouts: true, gup_fast_device_huge_recheck: true };
// d7782145e1ad (believed v4.20, Cc stable) is in the 4.19.y copy this profile follows
const V4_19: Flags = { ...V4_18, ext4_break_layouts: true, memory_failure_dev_pagemap: true, dax_layout_busy_page_pmd_index: true };

export const PROFILES: readonly Profile[] = [
  { name: 'v4.6', summary: 'before entry locking: get_block-based __dax_fault, hole pages in the page cache, i_mmap_lock in the fault path', flags: V4_6 },
  {
    name: 'v4.7',
    summary: 'DAX entry locking (ac401cc78242), i_mmap_lock dropped from faults (4d9a2c874667), PMD faults disabled (348e967ab07c)',
    flags: V4_7,
  },
  {
    name: 'v4.9',
    summary: 'PMD/HZP/EMPTY entry bits and PMD-aligned wait keys (642261ac995e, 63e95b5c4f16); ext4 faults still through get_block-based dax_fault(); hole-page insert wakes one waiter',
    flags: V4_9,
  },
  {
    name: 'v4.9.140',
    summary: 'the 4.9 stable branch of the seeds: v4.9 plus get_user_pages_longterm() (2bb6d2837083), the hole-insert wake-all (965d004af540, Cc: stable # 4.7+) and the gup-fast permission check for DAX PTEs (ef947b2, Cc: stable)',
    flags: { ...V4_9, gup_longterm_refuses_fsdax: true, dax_hole_insert_wake_all: true, x86_gup_pte_allows_gup_first: true },
  },
  {
    name: 'v4.10',
    summary: 'ext4 faults through dax_iomap_fault() (e2ae766c1b03) with ->iomap_begin before the entry lock (9f141d6ef625) and the handle in ext4_iomap_begin (1db175428ee3); hole insert wakes all (965d004af540); pfn_mkwrite under the entry lock (2f89dc12a25d)',
    flags: V4_10,
  },
  {
    name: 'v4.12',
    summary: 'entry lock before ->iomap_begin again (13e451fdc1af) and the jbd2 handle back in ext4_dax_huge_fault(); grab_mapping_entry() re-looks-up after the preload (e11f8b7b6c4e, v4.11)',
    flags: V4_12,
  },
  { name: 'v4.14', summary: '4k holes are ZERO entries mapping the shared zero page, and write-protect faults are full DAX faults (91d25ba8a6b0)', flags: V4_14 },
  { name: 'v4.15', summary: 'get_user_pages_longterm() refuses filesystem-DAX VMAs (2bb6d2837083); MAP_SYNC: synchronous write faults commit the journal before mapping (b6fb293f2497, caa51d26f85c)', flags: V4_15 },
  {
    name: 'v4.18',
    summary: 'pfn entries with page->mapping association and the truncate-vs-busy-page WARN (d2c997c0f145, v4.17); dax_layout_busy_page() and the idle-page wakeup (5fac7408d828), which ext4 does not call yet; gup-fast re-checks a DAX PMD after taking its references ("mm: fix __gup_device_huge vs unmap")',
    flags: V4_18,
  },
  { name: 'v4.19', summary: 'ext4 truncate and hole punch wait for pinned pages to go idle (ext4_break_layouts, 430657b6be89); memory_failure() handles filesystem-DAX pages (6100e34b2526); dax_layout_busy_page() steps over 2 MiB entries (d7782145e1ad, as in 4.19.y)', flags: V4_19 },
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
