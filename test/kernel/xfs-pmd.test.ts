// PMD write faults on XFS huge files: xfs_filemap_pmd_fault() / xfs_filemap_huge_fault()
// (sb_start_pagefault, XFS_MMAPLOCK_SHARED) -> dax_iomap_pmd_fault(), whose IOMAP_WRITE
// request for PMD_SIZE makes xfs_file_iomap_begin() allocate the 2 MiB hole as one zeroed
// written extent (xfs_iomap_write_direct(), XFS_BMAPI_CONVERT | XFS_BMAPI_ZERO) from v4.9;
// v4.7 falls back to PTEs (CONFIG_FS_DAX_PMD depends on BROKEN).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { events, inOrder, run, scenario } from '../helpers.js';
import { exploreScenario } from '../../src/check/explore.js';

const WRITE = `
name: hp
fs: xfs
setup:
  files: {d: {pages: 512, huge: true}}
  maps: {m: {file: d}}
threads:
  t:
    - fault: {map: m, page: 0, write: true, huge: true}
    - store: {map: m, page: 7, value: X}
    - load: {map: m, page: 7, expect: X}
    - fsync: {file: d}
final:
  crash: true
  files: {d: {7: X}}
`;

test('xfs PMD write fault, v4.9-v4.12: one transaction allocates and zeroes the 2 MiB-aligned extent, ->iomap_begin() reports it whole, and a writable DAX PMD maps it; fsync flushes it and forces the log', () => {
  for (const kernel of ['v4.9', 'v4.10', 'v4.12']) {
    const r = run(scenario(WRITE), { kernel, seed: '0', record: true });
    assert.deepEqual(r.violations, [], kernel);
    const ev = events(r);
    assert.ok(inOrder(ev, [
      't: down_read(xfs_mmaplock d)',
      't: down_write(xfs_ilock d)',
      't: xfs_bmapi_write(d:0+512, CONVERT|ZERO): blk 0-511 allocated and zeroed',
      't: up_write(xfs_ilock d)',
      't: ->iomap_begin(d:0, PMD_SIZE, IOMAP_WRITE) -> mapped blk 0 +512',
      't: vmf_insert_pfn_pmd(m pmd 0) -> DAX PMD blk 0-511 rw',
      't: up_read(xfs_mmaplock d)',
      't: store m:7 = X (blk 7, PMD)',
      't: xfs_log_force_lsn',
    ]), `${kernel}\n${ev.join('\n')}`);
  }
});

test('xfs PMD write fault, v4.7: the PMD fault falls back and the PTE write fault allocates one block', () => {
  const r = run(scenario(WRITE), { kernel: 'v4.7', seed: '0', record: true });
  assert.deepEqual(r.violations, []);
  const ev = events(r);
  assert.ok(inOrder(ev, ['t: dax_pmd_fault -> VM_FAULT_FALLBACK', 't: xfs_bmapi_write(d:0, CONVERT|ZERO): blk 0 allocated and zeroed', 't: vm_insert_mixed(m:0 -> blk 0)']), ev.join('\n'));
  assert.ok(!ev.some((e) => e.includes('+512')));
});

test('xfs PMD write fault on a 2 MiB range that is partly allocated: only the hole run is allocated, block by block (b took a punched block), and the PMD fault falls back to PTEs', () => {
  const text = `
name: pp
fs: xfs
setup:
  files: {e: {pages: 512, huge: true, written: {0: A}}, b: {pages: 1}}
  maps: {m: {file: e}}
threads:
  t:
    - punch: {file: e, page: 0, pages: 3}
    - write: {file: b, page: 0, value: B}
    - fault: {map: m, page: 0, write: true, huge: true}
    - load: {map: m, page: 0, expect: 0}
    - load: {map: m, page: 3, expect: 0}
`;
  for (const kernel of ['v4.9', 'v4.12']) {
    const r = run(scenario(text), { kernel, seed: '0', record: true });
    assert.deepEqual(r.violations, [], kernel);
    const ev = events(r);
    assert.ok(inOrder(ev, [
      't: fault m:0 write huge',
      't: xfs_bmapi_write(e:0, CONVERT|ZERO): a 3-block hole allocated from blk 1',
      't: ->iomap_begin(e:0, PMD_SIZE, IOMAP_WRITE) -> mapped blk',
      't: dax_iomap_pmd_fault -> VM_FAULT_FALLBACK',
      't: ->iomap_begin(e:0, IOMAP_WRITE) -> blk',
      't: vm_insert_mixed(m:0 -> blk',
    ]), `${kernel}\n${ev.join('\n')}`);
  }
});

test('xfs-pmd-write-fault-vs-pte-read-fault: "bad pmd" from v4.9 on XFS (its PMD faults predate ext4\'s), gone in v4.12 (DPOR)', () => {
  const scn = scenario(`
name: bp
fs: xfs
setup:
  files: {d: {pages: 512, huge: true}}
  maps: {m: {file: d}}
threads:
  writer:
    - fault: {map: m, page: 0, write: true, huge: true}
  reader:
    - fault: {map: m, page: 3}
`);
  for (const [kernel, ids] of [['v4.7', []], ['v4.9', ['kernel-warn']], ['v4.10', ['kernel-warn']], ['v4.12', []]] as const) {
    const res = exploreScenario(scn, { kernel });
    assert.ok(res.complete, kernel);
    assert.deepEqual([...res.tokens.keys()], [...ids], kernel);
  }
});

test('xfs MAP_SYNC PMD write fault, v4.15+: xfs_file_iomap_begin() reports IOMAP_F_DIRTY for the 2 MiB allocation, so the fault forces the log before the PMD is mapped and the allocation survives a crash without fsync', () => {
  const text = (sync: string) => `
name: hp-sync
fs: xfs
setup:
  files: {d: {pages: 512, huge: true}}
  maps: {s: {file: d${sync}}}
threads:
  t:
    - fault: {map: s, page: 3, write: true, huge: true}
    - store: {map: s, page: 3, value: X}
final:
  crash: true
  allocated: {d: [0, 3, 511]}
`;
  for (const kernel of ['v4.15', 'v4.19']) {
    const r = run(scenario(text(', sync: true')), { kernel, seed: '1', record: true });
    assert.deepEqual(r.violations, [], `${kernel}\n${events(r).join('\n')}`);
    assert.ok(inOrder(events(r), [
      'dax_iomap_pmd_fault: synchronous fault, blk 0 not mapped yet -> VM_FAULT_NEEDDSYNC',
      'vmf_insert_pfn_pmd(s pmd 0) -> DAX PMD blk 0-511 rw',
      'store s:3 = X (blk 3, PMD)',
    ]), events(r).join('\n'));
    // without MAP_SYNC nothing forces the log: the crash takes the 2 MiB allocation
    const plain = run(scenario(text('')), { kernel, seed: '1' });
    assert.deepEqual([...new Set(plain.violations.map((v) => v.id))], ['final-state'], kernel);
  }
});
