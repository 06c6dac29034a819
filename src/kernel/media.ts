// Media errors (poison) in persistent memory and what the DAX stack does with
// them: the pmem driver's badblocks list, direct_access() refusing a bad range
// (v4.7), the driver's write path clearing poison, the CPU consuming poison
// through a mapping (a machine check, memory_failure()), and the partition
// alignment that mount -o dax checks from v4.7. Sources and quotes:
// notes/kernel-xfs-media-errors.md §M.
//
// Model: a block is bad or not (Block.bad): the media holds poison AND the
// driver's badblocks list (pmem->bb) has it, as after an address range scrub;
// `setup.badblocks` and the `poison` op make a block bad, the `clear` op (the
// ndctl clear-error DSM) makes it good. The CPU consumes poison on loads only
// (a store is not modelled as consuming it).
import { EINVAL, EIO } from './mapping.js';
import type { OpEvent } from './kernel.js';
import { unmapMappingRange } from './pagetable.js';
import type { Block } from './pmem.js';
import type { KernelState } from './state.js';

/** The op the running thread is executing: a media error it meets is reported on it (fault-sigbus then does not count it). */
export function noteMediaError(k: KernelState): void {
  const ev: OpEvent | undefined = k.running.get(k.sim.me.id);
  if (ev !== undefined) ev.mediaError = true;
}

// fs/block_dev.c bdev_direct_access() -> drivers/nvdimm/pmem.c pmem_direct_access(),
// as dax_map_atomic() calls it (v4.6–v4.11; dax_direct_access() -> pmem_dax_direct_access()
// from v4.12 does the same checks), for one page at `block`:
//   - "sector += get_start_sect(bdev); if (sector % (PAGE_SIZE / 512)) return -EINVAL;"
//     (store id 26156025, the same test in v4.6): a partition that does not start on a
//     page boundary fails every DAX access;
//   - v4.7 (0a70bd430533, store id 45524781724): "if (unlikely(is_bad_pmem(&pmem->bb,
//     sector, dax->size))) return -EIO;"; v4.6 never looks at the badblocks list.
// The caller's step does the access (no scheduling point of its own: the driver call
// does not sleep here).
export function bdevDirectAccess(k: KernelState, block: number, who: string): number {
  if (k.partitionMisaligned) {
    if (k.sim.rec) k.sim.log(`${who}: bdev_direct_access(blk ${block}) -> -EINVAL (partition start not page-aligned)`);
    return -EINVAL;
  }
  if (!k.media) return 0;
  const b = k.pmem.block(block);
  if (!b.bad) return 0;
  if (k.flags.dax_direct_access_badblocks) {
    noteMediaError(k);
    if (k.sim.rec) k.sim.log(`${who}: pmem_direct_access(blk ${block}) -> -EIO (is_bad_pmem)`);
    return -EIO;
  }
  if (k.sim.rec) k.sim.log(`${who}: pmem_direct_access(blk ${block}) maps a poisoned block (v4.6: the badblocks list is not consulted)`);
  return 0;
}

// bdev_direct_access() / dax_direct_access() of a range of blocks (dax.size > PAGE_SIZE: a 2 MiB
// entry's writeback, a PMD fault), v4.6–v4.12: pmem_direct_access() tests is_bad_pmem() over the
// whole range (v4.7+), so one known bad block anywhere in it fails the call; the alignment test
// is the first block's. 0, or the error of the first block that fails.
export function bdevDirectAccessRange(k: KernelState, block: number, pages: number, who: string): number {
  for (let i = 0; i < pages; i++) {
    const err = bdevDirectAccess(k, block + i, who);
    if (err) return err;
  }
  return 0;
}

// drivers/nvdimm/pmem.c pmem_do_bvec() / pmem_do_write(), the write half, v4.6+ (store
// id 43521441 quotes the later pmem_do_write(); the ndctl clear test needs >= 4.6 for
// "clear poison support"): "write_pmem(...); if (unlikely(bad_pmem)) { rc =
// pmem_clear_poison(pmem, pmem_off, len); write_pmem(...); }". Block I/O through the
// driver (sb_issue_zeroout(), blkdev_issue_zeroout()) writes the block past the CPU
// cache and clears its poison and its badblocks entry.
export function pmemDriverWrite(k: KernelState, b: Block, value: 0 | string): void {
  b.content = value;
  if (k.media && b.bad) {
    b.bad = false;
    if (k.sim.rec) k.sim.log(`pmem_do_bvec(blk ${b.nr}): pmem_clear_poison(), badblocks entry cleared`);
  }
}

// A zeroing of a newly allocated block by the CPU: dax_clear_sectors() / clear_pmem()
// (v4.6 ext2 and XFS, 3dc29161070a replaced it in v4.7): memset + cache write-back,
// which leaves poison (and the badblocks entry) in place (from memory: only the
// driver's clear-error command removes poison).
export function cpuClear(k: KernelState, b: Block): void {
  b.content = 0;
}

/** Zeroing a new ext2/XFS block: through the driver from v4.7 (3dc29161070a), with the CPU before. */
export function zeroNewBlock(k: KernelState, b: Block): void {
  if (k.flags.dax_zeroout_through_driver) pmemDriverWrite(k, b, 0); // sb_issue_zeroout() / blkdev_issue_zeroout()
  else cpuClear(k, b); // dax_clear_sectors()
}

/**
 * A CPU load through a mapping of a poisoned block: the machine check
 * (arch/x86/kernel/cpu/mcheck/mce.c do_machine_check(), user mode) calls
 * memory_failure() on the pfn. Returns the op's result.
 */
export function* memoryFailure(k: KernelState, b: Block, vmaName: string, page: number): Generator<void, string, void> {
  const sim = k.sim;
  noteMediaError(k);
  if (k.flags.memory_failure_dev_pagemap) {
    // mm/memory-failure.c memory_failure_dev_pagemap(), v4.19 (6100e34b2526; body from
    // memory, not verified; its dax_lock_mapping_entry() is not modelled): SetPageHWPoison,
    // collect the tasks that map it, unmap_mapping_range() of the page in the file that
    // owns it, kill_procs(): SIGBUS with BUS_MCEERR_AR ("recovery action for dax page: Recovered").
    const owner = b.owner;
    if (owner !== null) {
      yield* sim.fn('unmap_mapping_range', unmapMappingRange(k, k.inode(owner.file).mapping, owner.page, 1));
    }
    if (sim.rec) sim.log(`memory_failure(blk ${b.nr}): dev_pagemap page, unmapped, SIGBUS (BUS_MCEERR_AR); recovery action for dax page: Recovered`);
    return 'SIGBUS';
  }
  // mm/memory-failure.c memory_failure(), v4.x before 6100e34b2526, as its commit message
  // shows: "Memory failure: ...: reserved kernel page still referenced by 1 users" /
  // "recovery action for reserved kernel page: Failed" / "mce: Memory error not recovered";
  // the MCE handler then force_sig(SIGBUS)s the task (from memory): no BUS_MCEERR_AR, and
  // the poisoned page stays mapped.
  sim.violate('poison-consumed', `${sim.me.name}'s load of ${vmaName}:${page} consumed the poison in blk ${b.nr}: memory_failure() cannot handle the ZONE_DEVICE page (recovery action for reserved kernel page: Failed), so the task gets a plain SIGBUS without BUS_MCEERR_AR and the page stays mapped`, `${sim.me.id}:${sim.me.opIndex}`);
  if (sim.rec) sim.log(`memory_failure(blk ${b.nr}): reserved kernel page, Failed; force_sig(SIGBUS)`);
  return 'SIGBUS';
}

