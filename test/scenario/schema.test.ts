// Tests of the JSON Schema of the scenario format.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scenarioSchema } from '../../src/scenario/schema.js';
import { OP_KINDS, type Vocabulary } from '../../src/scenario/types.js';

const VOCAB: Vocabulary = {
  kernels: new Map([
    ['v4.14', new Set(['b_flag'])],
    ['v4.7', new Set(['dax_entry_lock', 'ext4_i_mmap_sem'])],
    ['v4.9.140', new Set<string>()],
    ['v4.6', new Set(['ext4_i_mmap_sem'])],
  ]),
  invariantIds: new Set(['stale-mapping', 'deadlock', 'fault-sigbus']),
};

type Json = { [k: string]: unknown };

test('draft-07, deterministic, sorted enums', () => {
  const s = scenarioSchema(VOCAB) as Json;
  assert.equal(s.$schema, 'http://json-schema.org/draft-07/schema#');
  assert.equal(s.additionalProperties, false);
  assert.deepEqual(s.required, ['name', 'threads']);
  assert.equal(JSON.stringify(scenarioSchema(VOCAB)), JSON.stringify(s));
  const reordered: Vocabulary = {
    kernels: new Map([...VOCAB.kernels].reverse()),
    invariantIds: new Set([...VOCAB.invariantIds].reverse()),
  };
  assert.equal(JSON.stringify(scenarioSchema(reordered)), JSON.stringify(s));
  const defs = s.definitions as Record<string, Json>;
  assert.ok(!('$defs' in s));
  assert.deepEqual(defs.profile!.enum, ['v4.6', 'v4.7', 'v4.9.140', 'v4.14']);
  assert.deepEqual(defs.invariantId!.enum, ['deadlock', 'fault-sigbus', 'stale-mapping']);
  assert.deepEqual((s.properties as Record<string, Json>).fs!.enum, ['ext2', 'ext4', 'xfs']);
  assert.deepEqual(Object.keys((s.properties as Record<string, Json>).expect!.properties as Json), ['v4.6', 'v4.7', 'v4.9.140', 'v4.14']);
});

test('every op is described, closed and has an example', () => {
  const s = scenarioSchema(VOCAB) as Json;
  const defs = s.definitions as Record<string, Json>;
  assert.deepEqual(Object.keys(defs.op!.properties as Json), [...OP_KINDS]);
  for (const op of OP_KINDS) {
    const d = defs[`op_${op}`]!;
    assert.equal(typeof d.description, 'string', op);
    assert.equal(d.additionalProperties, false, op);
    assert.ok(Array.isArray(d.examples) && d.examples.length > 0, op);
    assert.ok('expect' in (d.properties as Json), op);
  }
  assert.deepEqual(defs.op_fault!.required, ['map', 'page']);
  assert.deepEqual(defs.op_pin!.required, ['map', 'page', 'as']);
  assert.deepEqual(defs.op_punch!.required, ['file', 'page']);
});

test('every property has a description (or is a $ref to a described definition)', () => {
  const s = scenarioSchema(VOCAB) as Json;
  const defs = s.definitions as Record<string, Json>;
  const missing: string[] = [];
  const walk = (node: unknown, path: string): void => {
    if (Array.isArray(node)) {
      node.forEach((x, i) => walk(x, `${path}/${i}`));
      return;
    }
    if (node === null || typeof node !== 'object') return;
    const o = node as Json;
    if (o.properties && typeof o.properties === 'object' && path.split('/').pop() !== 'examples') {
      for (const [k, v] of Object.entries(o.properties as Json)) {
        const p = v as Json;
        if (typeof p.description === 'string') continue;
        const ref = typeof p.$ref === 'string' ? p.$ref.replace('#/definitions/', '') : undefined;
        if (ref && typeof defs[ref]?.description === 'string') continue;
        missing.push(`${path}/properties/${k}`);
      }
    }
    for (const [k, v] of Object.entries(o)) if (k !== 'examples' && k !== 'enum' && k !== 'if') walk(v, `${path}/${k}`);
  };
  walk(s, '#');
  assert.deepEqual(missing, []);
  for (const [name, d] of Object.entries(defs)) assert.equal(typeof d.description, 'string', name);
});
