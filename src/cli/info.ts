// daxsim kernels | invariants | schema
import { FLAGS, PROFILES, findProfile, type FlagInfo, type FlagName } from '../kernel/versions.js';
import { INVARIANTS } from '../check/invariants.js';
import { scenarioSchema } from '../scenario/schema.js';
import { InputError } from '../scenario/diagnostic.js';
import type { Io } from './io.js';
import { vocabulary } from './vocab.js';

export function kernelsCommand(version: string | undefined, io: Io): number {
  const names = Object.keys(FLAGS) as FlagName[];
  if (version !== undefined) {
    const p = findProfile(version);
    if (p === undefined) {
      throw new InputError([{ file: 'kernels', line: 1, col: 1, message: `unknown kernel profile '${version}' (profiles: ${PROFILES.map((x) => x.name).join(', ')})` }]);
    }
    let s = `${p.name}: ${p.summary}\n\n`;
    for (const f of names) {
      const info: FlagInfo = FLAGS[f];
      const removed = info.removed ? `; removed by ${info.removed}` : '';
      s += `  ${p.flags[f] ? 'on ' : 'off'}  ${f}\n        ${info.commit} (${info.since})${removed}\n        ${info.mechanism}\n`;
    }
    io.stdout.write(s);
    return 0;
  }
  const w = Math.max(...names.map((n) => n.length));
  const pw = PROFILES.map((p) => p.name.length);
  let s = `${'flag'.padEnd(w)}  ${PROFILES.map((p, i) => p.name.padEnd(pw[i]!)).join(' ')}  commit\n`;
  for (const f of names) {
    s += `${f.padEnd(w)}  ${PROFILES.map((p, i) => (p.flags[f] ? 'on' : '-').padEnd(pw[i]!)).join(' ')}  ${FLAGS[f].commit}\n`;
  }
  io.stdout.write(s);
  return 0;
}

export function invariantsCommand(io: Io): number {
  const w = Math.max(...INVARIANTS.map((i) => i.id.length));
  let s = '';
  for (const i of INVARIANTS) s += `${i.id.padEnd(w)}  ${i.promise}${i.checked ? '' : ' [not checked yet: needs ops not modelled yet]'}\n`;
  io.stdout.write(s);
  return 0;
}

export function schemaCommand(io: Io): number {
  io.stdout.write(JSON.stringify(scenarioSchema(vocabulary()), null, 2) + '\n');
  return 0;
}
