import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCmapss } from '../../../ml/datasets/cmapss.ts';
import { JUDGE_VARIANTS, judgeSplit } from '../../../ml/evaluate/cmapss-judge.ts';
import { replayCmapss } from '../../../ml/train/turbofan.ts';

const path = join(import.meta.dirname, '..', '..', '..', '..', 'shared', 'data', 'cmapss', 'train_FD001.txt');

describe('the C-MAPSS model-choice judge (training engines only)', () => {
  // 25 training engines and a short boosting ceiling: the harness, not the model, is under test.
  const full = replayCmapss(parseCmapss(readFileSync(path, 'utf8'), path));
  const small = { names: full.names, engines: full.engines.slice(0, 25) };

  it('judges a split reproducibly, better than predicting the cap everywhere', () => {
    const a = judgeSplit(small, 1, { maxRounds: 60 });
    expect(a).toBe(judgeSplit(small, 1, { maxRounds: 60 }));
    expect(Number.isFinite(a) && a > 0).toBe(true);
    // Predicting 125 for every judged cycle scores the capped truth's root mean square distance to 125: far worse.
    expect(a).toBeLessThan(40);
  }, 120_000);

  it('moves with the variant and with the split', () => {
    const base = judgeSplit(small, 2, { maxRounds: 60 });
    expect(judgeSplit(small, 2, { maxRounds: 60, ...JUDGE_VARIANTS.depth3 })).not.toBe(base);
    expect(judgeSplit(small, 3, { maxRounds: 60 })).not.toBe(base);
  }, 120_000);
});
