// The scenario loader's vocabulary: kernel profiles with their flags, and invariant ids.
import { INVARIANT_IDS } from '../check/invariants.js';
import { kernelVocabulary } from '../kernel/versions.js';
import type { Vocabulary } from '../scenario/types.js';

export function vocabulary(): Vocabulary {
  return { kernels: kernelVocabulary(), invariantIds: INVARIANT_IDS };
}
