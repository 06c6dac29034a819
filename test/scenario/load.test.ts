// Tests of the scenario loader: the valid format of DESIGN §3, and the exact
// `file:line:col: message` diagnostics for bad input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { didYouMean, loadScenario, loadScenarioFile, naturalCompare } from '../../src/scenario/load.js';
import { InputError, formatDiagnostic } from '../../src/scenario/diagnostic.js';
import { LIMITS, type Scenario, type Vocabulary } from '../../src/scenario/types.js';

const FLAGS = ['ext4_i_mmap_sem', 'dax_entry_lock'];
const VOCAB: Vocabulary = {
  kernels: new Map([
    ['v4.6', new Set(FLAGS)],
    ['v4.7', new Set(FLAGS)],
  ]),
  invariantIds: new Set([
    'fault-sigbus', 'stale-mapping', 'dma-after-free', 'stale-data', 'stale-read', 'lost-write',
    'deadlock', 'lost-wakeup', 'livelock', 'lock-order', 'sleep-in-atomic', 'kernel-warn',
    'refcount', 'poison-consumed', 'unexpected-result', 'final-state',
  ]),
};

/** The diagnostics of a load that must fail, formatted. */
function errorsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof InputError, `expected an InputError, got ${String(e)}`);
    return e.diagnostics.map(formatDiagnostic);
  }
  assert.fail('expected the scenario to be refused');
}

const load = (text: string): Scenario => loadScenario(text, 's.yaml', VOCAB);
const errors = (text: string): string[] => errorsOf(() => load(text));

// The example of DESIGN §3, verbatim (it is valid with this vocabulary).
const DESIGN_EXAMPLE = `# yaml-language-server: $schema=../schema/scenario.schema.json
name: write-fault-vs-read-fault-hole      # required, kebab-case
description: Read fault loads a hole page while a write fault allocates.
refs: ["ac401cc78242 dax: New fault locking"]
kernel: v4.6            # default profile; --kernel overrides; or {base: v4.9, <flag>: value}
fs: ext4                # ext2 | ext4 | xfs (default ext4)
setup:
  files:
    a: {pages: 2}                          # i_size 2 pages, all holes
    b: {pages: 1, written: {0: "B"}}       # page 0 has a block holding "B"
    c: {pages: 4, unwritten: [1]}          # allocated, unwritten extent
    d: {pages: 1024, huge: true}           # 2 MiB-aligned extents, PMD-eligible
  maps:
    m: {file: a}                           # MAP_SHARED of the whole file
    p: {file: a, private: true}            # MAP_PRIVATE
    s: {file: a, sync: true}               # MAP_SYNC
  badblocks: [{file: b, page: 0}]
threads:
  t0:
    - fault: {map: m, page: 0, write: true}
    - store: {map: m, page: 0, value: "X"}
  t1:
    - fault: {map: m, page: 0}
    - load:  {map: m, page: 0, expect: ["X", 0]}   # allowed results
final:
  crash: true                              # power loss after all threads finish
  files: {a: {0: "X"}}                     # durable content expected per page
expect:
  v4.6: [fault-sigbus]                     # each id seen in some schedule, no other id
  v4.7: clean                              # no schedule shows any violation
`;

test('the DESIGN §3 example loads into the expected structure', () => {
  const s = load(DESIGN_EXAMPLE);
  const expected: Scenario = {
    file: 's.yaml',
    name: 'write-fault-vs-read-fault-hole',
    description: 'Read fault loads a hole page while a write fault allocates.',
    refs: ['ac401cc78242 dax: New fault locking'],
    kernel: { base: 'v4.6', flags: {}, pos: { line: 5, col: 9 }, flagPos: {} },
    fs: 'ext4',
    fsPos: { line: 6, col: 5 },
    files: [
      { name: 'a', pages: 2, written: new Map(), unwritten: [], huge: false, pos: { line: 9, col: 5 } },
      { name: 'b', pages: 1, written: new Map([[0, 'B']]), unwritten: [], huge: false, pos: { line: 10, col: 5 } },
      { name: 'c', pages: 4, written: new Map(), unwritten: [1], huge: false, pos: { line: 11, col: 5 } },
      { name: 'd', pages: 1024, written: new Map(), unwritten: [], huge: true, pos: { line: 12, col: 5 } },
    ],
    maps: [
      { name: 'm', file: 'a', private: false, sync: false, readonly: false, pos: { line: 14, col: 5 } },
      { name: 'p', file: 'a', private: true, sync: false, readonly: false, pos: { line: 15, col: 5 } },
      { name: 's', file: 'a', private: false, sync: true, readonly: false, pos: { line: 16, col: 5 } },
    ],
    badblocks: [{ file: 'b', page: 0, pos: { line: 17, col: 15 } }],
    threads: [
      {
        name: 't0',
        pos: { line: 19, col: 3 },
        ops: [
          { kind: 'fault', map: 'm', page: 0, write: true, huge: false, pos: { line: 20, col: 7 } },
          { kind: 'store', map: 'm', page: 0, value: 'X', pos: { line: 21, col: 7 } },
        ],
      },
      {
        name: 't1',
        pos: { line: 22, col: 3 },
        ops: [
          { kind: 'fault', map: 'm', page: 0, write: false, huge: false, pos: { line: 23, col: 7 } },
          { kind: 'load', map: 'm', page: 0, expect: ['X', 0], pos: { line: 24, col: 7 } },
        ],
      },
    ],
    final: {
      crash: true,
      files: new Map([['a', new Map([[0, 'X']])]]),
      allocated: new Map(),
      pos: { line: 25, col: 1 },
      crashPos: { line: 26, col: 10 },
    },
    expect: [
      { kernel: 'v4.6', verdict: ['fault-sigbus'], pos: { line: 29, col: 3 } },
      { kernel: 'v4.7', verdict: 'clean', pos: { line: 30, col: 3 } },
    ],
    pos: { line: 2, col: 1 },
    namePos: { line: 2, col: 1 },
  };
  assert.deepEqual(s, expected);
});

test('defaults, the kernel mapping form, and every op with its arguments', () => {
  const s = load(`name: all-ops
kernel: {base: v4.7, dax_entry_lock: false}
setup:
  files: {a: {pages: 4}}
  maps: {m: {file: a}}
threads:
  t0:
    - fault: {map: m, page: 1, huge: true}
    - load: {map: m, page: 9, expect: SIGBUS}
    - store: {map: m, page: 0, value: 0}
    - read: {file: a, page: 0, expect: [0, "X"]}
    - write: {file: a, page: 1, value: W}
    - truncate: {file: a, pages: 0}
    - punch: {file: a, page: 0}
    - fsync: {file: a}
    - msync: {map: m}
    - munmap: {map: m}
    - dma: {pin: p0, value: D, expect: [ok, EIO]}
  t1:
    - pin: {map: m, page: 0, longterm: true, as: p0, expect: EOPNOTSUPP}
    - unpin: {pin: p0}
    - poison: {file: a, page: 3}
    - clear: {file: a, page: 3}
`);
  assert.equal(s.fs, 'ext4');
  assert.equal(s.fsPos, undefined);
  assert.equal(s.description, '');
  assert.deepEqual(s.refs, []);
  assert.equal(s.final, null);
  assert.deepEqual(s.expect, []);
  assert.deepEqual(s.badblocks, []);
  assert.deepEqual(s.kernel, {
    base: 'v4.7',
    flags: { dax_entry_lock: false },
    pos: { line: 2, col: 16 },
    flagPos: { dax_entry_lock: { line: 2, col: 22 } },
  });
  const strip = (o: object): object => {
    const { pos, ...rest } = o as { pos: unknown };
    void pos;
    return rest;
  };
  assert.deepEqual(s.threads.map((t) => t.ops.map(strip)), [
    [
      { kind: 'fault', map: 'm', page: 1, write: false, huge: true },
      { kind: 'load', map: 'm', page: 9, expect: ['SIGBUS'] },
      { kind: 'store', map: 'm', page: 0, value: 0 },
      { kind: 'read', file: 'a', page: 0, pages: 1, expect: [0, 'X'] },
      { kind: 'write', file: 'a', page: 1, value: 'W', pages: 1 },
      { kind: 'truncate', file: 'a', pages: 0 },
      { kind: 'punch', file: 'a', page: 0, pages: 1 },
      { kind: 'fsync', file: 'a' },
      { kind: 'msync', map: 'm' },
      { kind: 'munmap', map: 'm' },
      // a pin created in another thread, even later in the file, is fine: the schedule decides
      { kind: 'dma', pin: 'p0', value: 'D', expect: ['ok', 'EIO'] },
    ],
    [
      { kind: 'pin', map: 'm', page: 0, longterm: true, write: false, as: 'p0', fast: false, expect: ['EOPNOTSUPP'] },
      { kind: 'unpin', pin: 'p0' },
      { kind: 'poison', file: 'a', page: 3 },
      { kind: 'clear', file: 'a', page: 3 },
    ],
  ]);
});

test('a byte-order mark, aliases and quoted page keys are accepted', () => {
  const s = load(`\uFEFFname: bom
setup:
  files: {a: {pages: 2, written: {"1": x}}}
  maps: {m: {file: a}}
threads:
  t0: &ops
    - fsync: {file: a}
  t1: *ops
`);
  assert.deepEqual(s.files[0]!.written, new Map([[1, 'x']]));
  assert.equal(s.threads[1]!.ops[0]!.kind, 'fsync');
  assert.deepEqual(s.pos, { line: 1, col: 1 });
});

// Lines 1-6 of most cases below: a file a of 2 pages, b of 1; maps m (of a) and p (of b); thread t0.
const HEAD = ['name: t', 'setup:', '  files: {a: {pages: 2}, b: {pages: 1}}', '  maps: {m: {file: a}, p: {file: b}}', 'threads:', '  t0:'];
const ops = (...lines: string[]): string => [...HEAD, ...lines.map((l) => `    - ${l}`)].join('\n') + '\n';

const OPS_LIST = 'fault, load, store, read, write, truncate, punch, fsync, msync, munmap, pin, dma, unpin, poison, clear, fallocate';
const TOP_LIST = 'name, description, refs, kernel, fs, setup, threads, final, expect';
const IDS_LIST =
  'deadlock, dma-after-free, fault-sigbus, final-state, kernel-warn, livelock, lock-order, lost-wakeup, lost-write, ' +
  'poison-consumed, refcount, sleep-in-atomic, stale-data, stale-mapping, stale-read, unexpected-result';

const BAD: { what: string; text: string; expect: string[] }[] = [
  {
    what: 'YAML syntax error',
    text: 'name: t\nthreads: @x\n',
    expect: ['s.yaml:2:10: invalid YAML: plain value cannot start with reserved character @'],
  },
  {
    what: 'YAML syntax error: unclosed flow mapping',
    text: ops('fsync: {file: a'),
    expect: ['s.yaml:8:1: invalid YAML: flow map in block collection must be sufficiently indented and end with a }'],
  },
  {
    what: 'unknown top-level key, with did-you-mean',
    text: ops('fsync: {file: a}') + 'descripton: x\n',
    expect: [`s.yaml:8:1: unknown key 'descripton' at the top level (expected one of: ${TOP_LIST}); did you mean 'description'?`],
  },
  {
    what: 'unknown op argument',
    text: ops('fault: {map: m, page: 0, pgae: 0}'),
    expect: [
      "s.yaml:7:32: unknown key 'pgae' in fault (expected one of: map, page, write, huge, expect); did you mean 'page'?",
    ],
  },
  {
    what: 'unknown op',
    text: ops('faul: {map: m, page: 0}'),
    expect: [`s.yaml:7:7: unknown operation 'faul' (expected one of: ${OPS_LIST}); did you mean 'fault'?`],
  },
  {
    what: 'unknown map',
    text: ops('load: {map: q, page: 0}'),
    expect: ["s.yaml:7:19: unknown map 'q' (maps defined: m, p)"],
  },
  {
    what: 'unknown file, in an op and in a map',
    text: ops('read: {file: z, page: 0}').replace('p: {file: b}', 'p: {file: bb}'),
    expect: [
      "s.yaml:4:34: unknown file 'bb' (files defined: a, b); did you mean 'b'?",
      "s.yaml:7:20: unknown file 'z' (files defined: a, b)",
    ],
  },
  {
    what: 'unknown pin',
    text: ops('pin: {map: m, page: 0, as: p0}', 'dma: {pin: p1, value: D}'),
    expect: ["s.yaml:8:18: unknown pin 'p1' (pins defined: p0); did you mean 'p0'?"],
  },
  {
    what: 'pin used before it is created in the same thread; duplicate pin name',
    text: ops('unpin: {pin: p0}', 'pin: {map: m, page: 0, as: p0}', 'pin: {map: p, page: 0, as: p0}'),
    expect: [
      "s.yaml:7:20: pin 'p0' is used before the pin operation that creates it (at 8:34)",
      "s.yaml:9:34: duplicate pin name 'p0' (first defined at 8:34)",
    ],
  },
  {
    what: 'unknown kernel profile (in kernel: and as an expect: key)',
    text: ops('fsync: {file: a}').replace('name: t\n', 'name: t\nkernel: v4.8\n') + 'expect:\n  4.7: clean\n',
    expect: [
      "s.yaml:2:9: unknown kernel profile 'v4.8' (profiles: v4.6, v4.7)",
      "s.yaml:10:3: unknown kernel profile '4.7' (profiles: v4.6, v4.7); did you mean 'v4.7'?",
    ],
  },
  {
    what: 'unknown kernel flag; flag of the wrong type',
    text: ops('fsync: {file: a}').replace('name: t\n', 'name: t\nkernel: {base: v4.7, dax_entry_lok: false, ext4_i_mmap_sem: 1}\n'),
    expect: [
      "s.yaml:2:22: unknown flag 'dax_entry_lok' for kernel v4.7 (flags of v4.7: dax_entry_lock, ext4_i_mmap_sem); did you mean 'dax_entry_lock'?",
      "s.yaml:2:61: expected a boolean (true or false) for 'ext4_i_mmap_sem', got number 1",
    ],
  },
  {
    what: 'unknown invariant id in expect; an id not in a list',
    text: ops('fsync: {file: a}') + 'expect:\n  v4.6: [fault-sigbs, stale-data]\n  v4.7: fault-sigbus\n',
    expect: [
      `s.yaml:9:10: unknown invariant id 'fault-sigbs' (expected one of: ${IDS_LIST}); did you mean 'fault-sigbus'?`,
      "s.yaml:10:9: expected 'clean' or a list of invariant ids for 'v4.7', got string 'fault-sigbus'; write [fault-sigbus]",
    ],
  },
  {
    what: 'wrong type',
    text: ops('store: {map: m, page: two, value: X}', 'fault: {map: m, page: 0, write: yes}'),
    expect: [
      "s.yaml:7:29: expected a non-negative integer for 'page', got string 'two'",
      "s.yaml:8:39: expected a boolean (true or false) for 'write', got string 'yes'",
    ],
  },
  {
    what: 'missing required fields',
    text: ops('fault: {map: m}').replace('name: t\n', ''),
    expect: [
      "s.yaml:1:1: missing required key 'name' at the top level",
      "s.yaml:6:14: missing required key 'page' in fault",
    ],
  },
  {
    what: 'page value 7',
    text: ops('write: {file: a, page: 0, value: 7}'),
    expect: ["s.yaml:7:40: expected a string token or 0 for 'value', got number 7 (quote it: \"7\")"],
  },
  {
    what: 'duplicate key',
    text: ops('fsync: {file: a, file: b}'),
    expect: ["s.yaml:7:24: duplicate key 'file' in fsync (first at 7:15)"],
  },
  {
    what: 'too many threads',
    text:
      [...HEAD.slice(0, 5), ...Array.from({ length: LIMITS.threads + 1 }, (_, i) => `  t${i}: [{munmap: {map: m}}]`)].join('\n') + '\n',
    expect: [`s.yaml:22:3: too many threads: ${LIMITS.threads + 1} (the limit is ${LIMITS.threads})`],
  },
  {
    what: 'too many ops in a thread',
    text: ops(...Array.from({ length: LIMITS.opsPerThread + 1 }, () => 'fsync: {file: a}')),
    expect: [`s.yaml:${7 + LIMITS.opsPerThread}:7: too many operations in thread 't0': ${LIMITS.opsPerThread + 1} (the limit is ${LIMITS.opsPerThread})`],
  },
  {
    what: 'name not kebab-case',
    text: ops('fsync: {file: a}').replace('name: t', 'name: Write_Fault'),
    expect: ["s.yaml:1:7: name must be kebab-case (lowercase letters and digits joined by single '-'), got 'Write_Fault'"],
  },
  {
    what: 'unknown fs',
    text: ops('fsync: {file: a}').replace('name: t\n', 'name: t\nfs: ext3\n'),
    expect: ["s.yaml:2:5: unknown fs 'ext3' (expected one of: ext2, ext4, xfs)"],
  },
  {
    what: 'setup pages beyond the end of the file, bad page values, written and unwritten',
    text:
      'name: t\nsetup:\n  files:\n    a: {pages: 2, written: {2: X, 0: 5, 1: Y}, unwritten: [1]}\n' +
      '  badblocks: [{file: a, page: 3}]\nthreads: {t0: [{fsync: {file: a}}]}\n',
    expect: [
      "s.yaml:4:29: page 2 is beyond the end of file 'a' (2 pages)",
      's.yaml:4:38: expected a string token or 0 for page 0 in \'written\', got number 5 (quote it: "5")',
      "s.yaml:4:60: page 1 of file 'a' is both written and unwritten",
      "s.yaml:5:31: page 3 is beyond the end of file 'a' (2 pages)",
    ],
  },
  {
    what: 'op arguments not indented under the op',
    text: [...HEAD, '    - fault:', '      map: m', '      page: 0'].join('\n') + '\n',
    expect: ["s.yaml:8:7: expected one operation per list item, got 3 keys ('fault', 'map', 'page'); indent the arguments under 'fault'"],
  },
  {
    what: 'an op without arguments; not a mapping; empty',
    text: ops('fsync:', '3', '{}'),
    expect: [
      "s.yaml:7:13: expected arguments {file} for fsync, got null",
      's.yaml:8:7: expected an operation (a mapping with one key, the op name, e.g. {fault: {map: m, page: 0}}), got number 3',
      's.yaml:9:7: expected an operation (a mapping with one key, the op name), got an empty mapping',
    ],
  },
  {
    what: 'expect: an empty list, a null result',
    text: ops('load: {map: m, page: 0, expect: []}', 'load: {map: m, page: 0, expect: [ok, null]}'),
    expect: [
      "s.yaml:7:39: expected at least one allowed result in 'expect', got an empty list",
      "s.yaml:8:44: expected a result (a word such as ok or SIGBUS, or a value) for 'expect', got null",
    ],
  },
  {
    what: 'limits on page numbers and counts',
    text: ops('punch: {file: a, page: 2000000, pages: 0}', 'truncate: {file: a, pages: -1}').replace('pages: 2}', 'pages: 1048577}'),
    expect: [
      `s.yaml:3:22: too many pages in file 'a': 1048577 (the limit is ${LIMITS.pagesPerFile})`,
      `s.yaml:7:30: page 2000000 is out of range (the limit is ${LIMITS.pagesPerFile - 1}: a file has at most ${LIMITS.pagesPerFile} pages)`,
      "s.yaml:7:46: expected a positive integer for 'pages', got number 0",
      "s.yaml:8:34: expected a non-negative integer for 'pages', got number -1",
    ],
  },
  {
    what: 'final: bad crash, unknown file, bad page key',
    text: ops('fsync: {file: a}') + 'final:\n  crash: yes\n  files: {c: {0: X}, a: {x: Y}}\n',
    expect: [
      "s.yaml:9:10: expected a boolean (true or false) for 'crash', got string 'yes'",
      "s.yaml:10:11: unknown file 'c' (files defined: a, b)",
      "s.yaml:10:26: expected a page number as key in final.files.a, got 'x'",
    ],
  },
  {
    what: 'threads: empty, not a sequence, bad name',
    text: 'name: t\nsetup: {files: {a: {pages: 1}}}\nthreads:\n  t0: []\n  t1: {}\n  "t 2": [fsync: {file: a}]\n',
    expect: [
      "s.yaml:4:7: thread 't0' has no operations",
      "s.yaml:5:7: expected a sequence of operations for thread 't1', got a mapping",
      "s.yaml:6:3: invalid thread name 't 2' (expected a letter or '_' followed by letters, digits, '_' or '-')",
    ],
  },
  {
    what: 'nesting too deep',
    text: `name: t\nthreads: ${'['.repeat(70)}${']'.repeat(70)}\n`,
    expect: ['s.yaml:2:74: nesting too deep (more than 64 levels)'],
  },
  {
    what: 'unknown alias',
    text: 'name: t\nthreads:\n  t0: *ops\n',
    expect: ["s.yaml:3:7: unknown alias '*ops' (no anchor '&ops' before it)"],
  },
  {
    what: 'too many alias expansions',
    text:
      'name: t\nsetup: {files: {a: {pages: 1}}}\nthreads:\n  t0:\n    - &f {fsync: {file: a}}\n' + '    - *f\n'.repeat(101),
    expect: ['s.yaml:106:7: too many alias expansions (the limit is 100)'],
  },
  {
    what: 'two documents',
    text: ops('fsync: {file: a}') + '---\nname: u\n',
    expect: ["s.yaml:8:1: expected a single YAML document, found a second one (remove the '---')"],
  },
  {
    what: 'an empty document (only the modeline)',
    text: '# yaml-language-server: $schema=../schema/scenario.schema.json\n',
    expect: ["s.yaml:1:1: expected a scenario mapping (with at least 'name' and 'threads') at the top level, got an empty document"],
  },
  {
    what: 'input too large',
    text: '#'.repeat(LIMITS.fileBytes + 1),
    expect: [`s.yaml:1:1: input is too large: ${LIMITS.fileBytes + 1} bytes (the limit is ${LIMITS.fileBytes} bytes)`],
  },
];

test('bad scenarios give exact diagnostics', async (t) => {
  assert.ok(BAD.length >= 15);
  for (const c of BAD) {
    await t.test(c.what, () => {
      assert.deepEqual(errors(c.text), c.expect);
    });
  }
});

test('every diagnostic of a file is reported, sorted by position', () => {
  const got = errors(
    'name: Bad\nsetup:\n  maps: {m: {file: z}}\nthreads:\n  t0:\n    - fault: {map: q, page: -1}\n    - lod: {map: m, page: 0}\nexpect: {v4.6: [nope]}\n',
  );
  assert.deepEqual(got, [
    "s.yaml:1:7: name must be kebab-case (lowercase letters and digits joined by single '-'), got 'Bad'",
    "s.yaml:3:20: unknown file 'z' (no files defined in setup.files)",
    "s.yaml:6:20: unknown map 'q' (maps defined: m)",
    "s.yaml:6:29: expected a non-negative integer for 'page', got number -1",
    `s.yaml:7:7: unknown operation 'lod' (expected one of: ${OPS_LIST}); did you mean 'load'?`,
    `s.yaml:8:17: unknown invariant id 'nope' (expected one of: ${IDS_LIST})`,
  ]);
});

test('loadScenarioFile: non-UTF-8 bytes, a missing file, a valid file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'daxsim-load-'));
  try {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, Buffer.from([0xff, 0xfe, 0x6e, 0x61, 0x6d, 0x65]));
    assert.deepEqual(errorsOf(() => loadScenarioFile(bad, VOCAB)), [`${bad}:1:1: input is not valid UTF-8 (invalid byte 0xff at offset 0)`]);

    const late = join(dir, 'late.yaml');
    writeFileSync(late, Buffer.concat([Buffer.from('name: x\n# caf'), Buffer.from([0xc3, 0x28])]));
    assert.deepEqual(errorsOf(() => loadScenarioFile(late, VOCAB)), [`${late}:1:1: input is not valid UTF-8 (invalid byte 0x28 at offset 14)`]);

    const missing = join(dir, 'missing.yaml');
    assert.deepEqual(errorsOf(() => loadScenarioFile(missing, VOCAB)), [`${missing}:1:1: cannot read scenario: no such file`]);
    assert.deepEqual(errorsOf(() => loadScenarioFile(dir, VOCAB)), [`${dir}:1:1: cannot read scenario: it is a directory`]);

    const good = join(dir, 'good.yaml');
    writeFileSync(good, DESIGN_EXAMPLE);
    const s = loadScenarioFile(good, VOCAB);
    assert.equal(s.file, good);
    assert.equal(s.name, 'write-fault-vs-read-fault-hole');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('didYouMean and naturalCompare', () => {
  assert.equal(didYouMean('pgae', ['map', 'page', 'write', 'huge', 'expect']), 'page');
  assert.equal(didYouMean('q', ['m', 'p']), undefined);
  assert.equal(didYouMean('ext3', ['ext2', 'ext4', 'xfs']), undefined); // a tie: no guess
  assert.equal(didYouMean('desc', ['name', 'description']), 'description');
  assert.deepEqual(['v4.14', 'v4.9.140', 'v4.6', 'v4.9', 'v4.19'].sort(naturalCompare), ['v4.6', 'v4.9', 'v4.9.140', 'v4.14', 'v4.19']);
});

/** A small seeded generator (mulberry32): the same mutations on every run. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('random mutations of a valid scenario only ever raise InputError', { timeout: 120_000 }, () => {
  const rand = rng(0xda5);
  const pick = (n: number): number => Math.floor(rand() * n);
  const noise = ':{}[]-,#&*!|>\'"\n \t0123456789abcxyz?%@`\\\u00e9';
  let refused = 0;
  let accepted = 0;
  for (let i = 0; i < 600; i++) {
    let text = DESIGN_EXAMPLE;
    const edits = 1 + pick(4);
    for (let k = 0; k < edits; k++) {
      const at = pick(text.length);
      switch (pick(5)) {
        case 0: // delete a character
          text = text.slice(0, at) + text.slice(at + 1);
          break;
        case 1: // duplicate a character
          text = text.slice(0, at) + text[at] + text.slice(at);
          break;
        case 2: // swap two neighbours
          text = text.slice(0, at) + (text[at + 1] ?? '') + (text[at] ?? '') + text.slice(at + 2);
          break;
        case 3: // insert noise
          text = text.slice(0, at) + noise[pick(noise.length)] + text.slice(at);
          break;
        default: {
          // duplicate a whole line elsewhere
          const lines = text.split('\n');
          lines.splice(pick(lines.length), 0, lines[pick(lines.length)]!);
          text = lines.join('\n');
        }
      }
    }
    try {
      load(text);
      accepted++;
    } catch (e) {
      if (!(e instanceof InputError)) {
        assert.fail(`mutation ${i} threw ${e instanceof Error ? e.stack : String(e)}\n--- input ---\n${text}`);
      }
      refused++;
      assert.ok(e.diagnostics.length > 0);
      for (const d of e.diagnostics) {
        assert.equal(d.file, 's.yaml');
        assert.ok(Number.isInteger(d.line) && d.line >= 1, formatDiagnostic(d));
        assert.ok(Number.isInteger(d.col) && d.col >= 1, formatDiagnostic(d));
        assert.match(d.message, /^[a-z'"]/, formatDiagnostic(d));
        assert.ok(!d.message.includes('internal error'), formatDiagnostic(d));
      }
      const sorted = [...e.diagnostics].sort((x, y) => x.line - y.line || x.col - y.col);
      assert.deepEqual(e.diagnostics, sorted);
    }
  }
  assert.ok(refused > 100, `refused ${refused}`);
  assert.ok(accepted > 10, `accepted ${accepted}`);
});
