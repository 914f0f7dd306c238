import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readBundle } from '../../../ml/bundle/read.ts';
import { FeatureRangesFileError, readFeatureRanges } from '../../../local/dashboard/feature-ranges.ts';

describe('readFeatureRanges', () => {
  it('holds ranges computed from the very data every shipped predictor was trained on', () => {
    // Arrange
    const bundle = readBundle();
    const ranges = readFeatureRanges();

    // Assert: a retrained bundle without regenerated ranges fails here (regenerate with
    // `npx tsx local/dashboard/feature-ranges-build.ts`), instead of the what-if quietly saying "no basis".
    for (const [modelId, entry] of bundle.models) {
      const stored = ranges[modelId];
      expect(stored, modelId).toBeDefined();
      for (const p of entry.predictors) {
        expect(p.entry.trainingDataHash, `${modelId}/${p.entry.name}`).toBe(stored!.trainingDataHash);
        const missing = p.entry.featureNames.filter((f) => !Object.hasOwn(stored!.ranges, f));
        expect(missing, `${modelId}/${p.entry.name}`).toEqual([]);
      }
    }
  });

  it.each([
    ['not JSON', '{', /cannot read feature ranges/],
    ['a range with min above max', '{"m":{"trainingDataHash":"h","rows":1,"source":"s","ranges":{"x":[2,1]}}}', /m\.ranges\.x: min ≤ max/],
    ['a missing hash', '{"m":{"rows":1,"source":"s","ranges":{}}}', /m\.trainingDataHash/],
  ])('rejects %s with a named error', (_, text, message) => {
    const file = join(mkdtempSync(join(tmpdir(), 'pdm-ranges-')), 'ranges.json');
    writeFileSync(file, text);
    expect(() => readFeatureRanges(file)).toThrow(FeatureRangesFileError);
    expect(() => readFeatureRanges(file)).toThrow(message);
  });
});
