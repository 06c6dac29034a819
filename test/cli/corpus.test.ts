// The regression corpus: fuzz --save-failures writes shrunk failing schedules; check --corpus replays them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli } from '../helpers.js';

const RACE = 'scenarios/write-fault-vs-read-fault-hole.yaml';

test('fuzz --save-failures writes one entry per violation id; check --corpus replays them', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'daxsim-corpus-'));
  try {
    const f = await cli(['fuzz', RACE, '--kernel', 'v4.6', '--keep-going', '--runs', '500', '--save-failures', dir]);
    assert.equal(f.code, 1);
    const names = readdirSync(dir).sort();
    assert.deepEqual(names.map((n) => n.replace(/\.[0-9a-f]{12}\.json$/, '')), ['write-fault-vs-read-fault-hole.v4.6.fault-sigbus', 'write-fault-vs-read-fault-hole.v4.6.kernel-warn']);
    const entry = JSON.parse(readFileSync(join(dir, names[0]!), 'utf8'));
    assert.deepEqual(Object.keys(entry), ['format', 'daxsim', 'scenario', 'kernel', 'violation', 'schedule']);
    assert.equal(entry.format, 1);
    assert.match(entry.schedule, /^s1-/);
    // the same fuzz run saves the same files (names carry a hash of the content)
    const again = await cli(['fuzz', RACE, '--kernel', 'v4.6', '--keep-going', '--runs', '500', '--save-failures', dir]);
    assert.equal(again.code, 1);
    assert.deepEqual(readdirSync(dir).sort(), names);

    const ok = await cli(['check', '--corpus', dir]);
    assert.equal(ok.code, 0, ok.out);
    assert.match(ok.out, /✓ scenarios\/write-fault-vs-read-fault-hole\.yaml {2}v4\.6 {2}still shows fault-sigbus/);

    // an entry that no longer reproduces its violation fails the check
    writeFileSync(join(dir, 'stale.json'), JSON.stringify({ ...entry, schedule: 's1-a' }));
    const stale = await cli(['check', '--corpus', dir]);
    assert.equal(stale.code, 1);
    assert.match(stale.out, /✗ .*v4\.6 {2}no longer shows fault-sigbus/);
    rmSync(join(dir, 'stale.json'));

    // an entry recorded on a kernel the scenario says is fixed must not show it
    const fixed = { ...entry, kernel: 'v4.7', schedule: 's1-a' };
    writeFileSync(join(dir, 'fixed.json'), JSON.stringify(fixed));
    const f2 = await cli(['check', '--corpus', dir]);
    assert.equal(f2.code, 0, f2.out);
    assert.match(f2.out, /v4\.7 {2}no longer shows fault-sigbus, as expect: v4\.7 says/);
    rmSync(join(dir, 'fixed.json'));

    // an old token format or an unknown entry format is a clear input error
    writeFileSync(join(dir, 'old.json'), JSON.stringify({ ...entry, schedule: 's0-ab' }));
    const old = await cli(['check', '--corpus', dir]);
    assert.equal(old.code, 2);
    assert.match(old.err, /old\.json:1:1: schedule token format s0 is not supported by this daxsim \(it reads s1\)/);
    writeFileSync(join(dir, 'old.json'), JSON.stringify({ ...entry, format: 7 }));
    const fmt = await cli(['check', '--corpus', dir]);
    assert.equal(fmt.code, 2);
    assert.match(fmt.err, /old\.json:1:1: corpus entry format 7 is not supported by this daxsim \(it reads format 1\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.equal((await cli(['check'])).code, 2);
  assert.equal((await cli(['fuzz', RACE, '--save-failures', '/nonexistent/dir'])).code, 2);
});
