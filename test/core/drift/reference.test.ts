import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  assetModelReferenceSchema,
  buildReference,
  ReferenceBuildError,
  topFeaturesByGain,
  totalGainByColumn,
} from '../../../lambdas/core/drift/index.ts';
import { parseManifest } from '../../../lambdas/core/model/bundle.ts';

const ROOT = join(import.meta.dirname, '../../..');
const tree = (left: number[], split: number[], loss: number[]) => ({ left_children: left, split_indices: split, loss_changes: loss });
const modelJson = (...trees: ReturnType<typeof tree>[]) => JSON.stringify({ learner: { gradient_booster: { model: { trees } } } });

describe('totalGainByColumn', () => {
  it('sums loss changes of split nodes per column and ignores leaves', () => {
    const m = modelJson(tree([1, -1, -1], [2, 0, 0], [4, 9, 9]), tree([1, 3, -1, -1, -1], [0, 2, 0, 0, 0], [1, 2, 7, 7, 7]));
    expect(Array.from(totalGainByColumn(m, 3))).toEqual([1, 0, 6]);
  });

  it('reads the same model from UTF-8 bytes', () => {
    const m = modelJson(tree([1, -1, -1], [1, 0, 0], [3, 0, 0]));
    expect(Array.from(totalGainByColumn(new TextEncoder().encode(m), 2))).toEqual([0, 3]);
  });

  it('rejects a split on a column the model does not have, and a file without trees', () => {
    expect(() => totalGainByColumn(modelJson(tree([1, -1, -1], [5, 0, 0], [1, 0, 0])), 2)).toThrow(ReferenceBuildError);
    expect(() => totalGainByColumn('{"learner":{}}', 2)).toThrow(ReferenceBuildError);
  });
});

describe('topFeaturesByGain', () => {
  it('weighs each predictor by its own gain shares, so a large-scale regression does not decide alone', () => {
    const rul = { model: modelJson(tree([1, -1, -1], [0, 0, 0], [1e12, 0, 0])), featureNames: ['a', 'b'] };
    const clf = { model: modelJson(tree([1, 3, -1, -1, -1], [1, 1, 0, 0, 0], [0.5, 0.4, 0, 0, 0])), featureNames: ['a', 'b'] };
    expect(topFeaturesByGain([rul, clf])).toEqual([
      { name: 'a', gainShare: 1 },
      { name: 'b', gainShare: 1 },
    ]);
  });

  it('keeps at most k features, most gain first', () => {
    const names = Array.from({ length: 12 }, (_, i) => `f${i}`);
    const trees = names.map((_, j) => tree([1, -1, -1], [j, 0, 0], [j + 1, 0, 0]));
    const top = topFeaturesByGain([{ model: modelJson(...trees), featureNames: names }]);
    expect(top.map((t) => t.name)).toEqual(['f11', 'f10', 'f9', 'f8', 'f7', 'f6', 'f5', 'f4', 'f3', 'f2']);
  });
});

describe('buildReference', () => {
  it('bins every column a predictor reads over the matrix rows', () => {
    const x = Float32Array.from({ length: 200 }, (_, i) => (i % 2 === 0 ? i : Number.NaN));
    const ref = buildReference({ names: ['a', 'b'], x, n: 100, source: 's' }, [
      { model: modelJson(tree([1, -1, -1], [0, 0, 0], [1, 0, 0])), featureNames: ['a', 'b'] },
    ]);
    expect(Object.keys(ref.features)).toEqual(['a', 'b']);
    // b is missing on every row: no edges, everything in the missing bin.
    expect(ref.features.b).toEqual({ edges: [], shares: [0, 1] });
    expect(ref.rows).toBe(100);
    expect(ref.topFeatures).toEqual([{ name: 'a', gainShare: 1 }]);
  });

  it('names the columns the matrix lacks', () => {
    expect(() =>
      buildReference({ names: ['a'], x: new Float32Array(3), n: 3, source: 's' }, [
        { model: modelJson(tree([1, -1, -1], [0, 0, 0], [1, 0, 0])), featureNames: ['a', 'zz'] },
      ]),
    ).toThrow(/lacks zz/);
  });
});

describe('the shipped bundle', () => {
  const manifest = parseManifest(readFileSync(join(ROOT, 'layers/model/manifest.json'), 'utf8'));

  it('carries a reference for every asset model, over the features its predictors read', () => {
    for (const [id, entry] of Object.entries(manifest.models)) {
      const ref = entry.reference;
      expect(ref, id).toBeDefined();
      assetModelReferenceSchema.parse(ref);
      const served = new Set(entry.predictors.flatMap((p) => p.featureNames));
      expect(new Set(Object.keys(ref!.features))).toEqual(served);
      expect(ref!.topFeatures).toHaveLength(10);
      // The rows binned are at least those of every predictor (the union of their training rows).
      expect(ref!.rows).toBeGreaterThanOrEqual(Math.max(...entry.predictors.map((p) => p.trainingRows)));
    }
  });
});
