import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  assetModelReferenceSchema,
  buildReference,
  ReferenceBuildError,
  topFeaturesByGain,
  totalGainByColumn,
  trainingWindows,
  valueBinsFilled,
  watchableFeatures,
  watchAssets,
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
      // Every asset model's matrix carries asset and time, so each watch list passed the self-check.
      expect(ref!.watch, id).toBeDefined();
      for (const t of ref!.topFeatures) expect(t.nullPsi, `${id} ${t.name}`).toBeLessThanOrEqual(ref!.watch!.maxNullPsi);
      // The rows binned are at least those of every predictor (the union of their training rows).
      expect(ref!.rows).toBeGreaterThanOrEqual(Math.max(...entry.predictors.map((p) => p.trainingRows)));
    }
  });
});

describe('watchableFeatures', () => {
  // Four assets over three days, hourly rows: `cycle` follows a daily cycle every asset-day covers;
  // `slow` is one value per asset-day (a long-window statistic), so a day of four assets holds four values.
  const HOUR = 3_600_000;
  const rows: { asset: number; t: number; cycle: number; slow: number }[] = [];
  for (let a = 0; a < 4; a++) {
    for (let h = 0; h < 72; h++) rows.push({ asset: a, t: h * HOUR, cycle: Math.sin((2 * Math.PI * h) / 24), slow: a * 3 + Math.floor(h / 24) });
  }
  const matrix = {
    names: ['cycle', 'slow'],
    x: Float32Array.from(rows.flatMap((r) => [r.cycle, r.slow])),
    n: rows.length,
    source: 's',
    keys: { asset: rows.map((r) => r.asset), t: rows.map((r) => r.t) },
  };
  const bothSplit = modelJson(tree([1, -1, -1], [1, 0, 0], [5, 0, 0]), tree([1, -1, -1], [0, 0, 0], [1, 0, 0]));

  it('cuts one window per day of four assets with full rows', () => {
    expect(trainingWindows(matrix.keys, matrix.n, 24 * HOUR, 4).map((w) => w.length)).toEqual([96, 96, 96]);
  });

  it('keeps a feature each window samples fully and drops one a window holds a few values of', () => {
    const ref = buildReference(matrix, [{ model: bothSplit, featureNames: ['cycle', 'slow'] }]);
    // `slow` has more gain but breaches on the training data's own windows.
    expect(ref.topFeatures.map((t) => t.name)).toEqual(['cycle']);
    expect(ref.topFeatures[0]!.nullPsi).toBeLessThanOrEqual(0.1);
    expect(ref.watch).toEqual({ windowHours: 24, assets: 4, windows: 3, quantile: 0.95, maxNullPsi: 0.1 });
  });

  it('ranks by gain alone when the matrix has no per-row asset and time', () => {
    const { keys: _keys, ...bare } = matrix;
    const ref = buildReference(bare, [{ model: bothSplit, featureNames: ['cycle', 'slow'] }]);
    expect(ref.topFeatures.map((t) => t.name)).toEqual(['slow', 'cycle']);
    expect(ref.watch).toBeUndefined();
  });

  it('refuses when no window has enough assets, and watches nothing when nothing with gain passes', () => {
    expect(() => buildReference(matrix, [{ model: bothSplit, featureNames: ['cycle', 'slow'] }], { assets: 5 })).toThrow(ReferenceBuildError);
    const slowOnly = modelJson(tree([1, -1, -1], [1, 0, 0], [5, 0, 0]));
    const ref = buildReference(matrix, [{ model: slowOnly, featureNames: ['cycle', 'slow'] }]);
    expect(ref.topFeatures).toEqual([]);
    expect(ref.watch?.windows).toBe(3);
    // Without the watch record an empty list would be a broken reference.
    const { watch: _watch, ...bare } = ref;
    expect(() => assetModelReferenceSchema.parse(bare)).toThrow(/no top features/);
  });

  it('takes as many assets as a served window needs to reach the minimum count, at most those present', () => {
    // 24 hourly rows per asset-day: 21 assets reach 500; only 4 exist.
    expect(watchAssets(matrix.keys, matrix.n, 24 * HOUR)).toBe(4);
    expect(watchAssets(matrix.keys, matrix.n, 24 * HOUR, 48)).toBe(2);
    // Rows kept every 6th of 10-minute samples: a served asset-day has 144 rows, so 4 assets reach 500.
    const thinned = { ...matrix.keys, serviceIntervalMs: HOUR / 6 };
    expect(watchAssets(thinned, matrix.n, 24 * HOUR, 500)).toBe(4);
    expect(watchAssets(thinned, matrix.n, 24 * HOUR, 144)).toBe(1);
  });

  it('does not watch a feature whose training values all fall into one bin', () => {
    // `flag` is 0 on every row: its PSI is 0 on any window, so it passes the check trivially.
    const withFlag = { ...matrix, names: ['cycle', 'slow', 'flag'], x: Float32Array.from(rows.flatMap((r) => [r.cycle, r.slow, 0])) };
    const flagFirst = modelJson(tree([1, -1, -1], [2, 0, 0], [9, 0, 0]), tree([1, -1, -1], [0, 0, 0], [1, 0, 0]));
    const ref = buildReference(withFlag, [{ model: flagFirst, featureNames: ['cycle', 'slow', 'flag'] }]);
    expect(valueBinsFilled(ref.features.flag!)).toBe(1);
    expect(ref.topFeatures.map((t) => t.name)).toEqual(['cycle']);
  });
});

describe('watchableFeatures on a cycle clock', () => {
  // Engines that report once a cycle, one cycle an hour of event time (as a replay feeds the monitor),
  // all starting new together: a 24 h window is 24 cycles of engines of the same age. `noise` varies
  // cycle to cycle; `wear` grows with the cycle, so each window holds one slice of the life.
  const HOUR = 3_600_000;
  const ENGINES = 25;
  const CYCLES = 72;
  const rows: { asset: number; t: number; noise: number; wear: number }[] = [];
  for (let e = 0; e < ENGINES; e++) {
    for (let c = 1; c <= CYCLES; c++) rows.push({ asset: e, t: c * HOUR, noise: ((c * 7919 + e * 104_729) % 1000) / 1000, wear: c + e / ENGINES });
  }
  const matrix = {
    names: ['noise', 'wear'],
    x: Float32Array.from(rows.flatMap((r) => [r.noise, r.wear])),
    n: rows.length,
    source: 'cycles',
    keys: { asset: rows.map((r) => r.asset), t: rows.map((r) => r.t) },
  };

  it('cuts 24-cycle windows of as many engines as reach the minimum count', () => {
    // 24 rows an engine-window: ⌈500 / 24⌉ = 21 engines, 25 rotations per full window (cycles 24–47, 48–71).
    expect(watchAssets(matrix.keys, matrix.n, 24 * HOUR)).toBe(21);
    const windows = trainingWindows(matrix.keys, matrix.n, 24 * HOUR, 21);
    // Cycles 1–23 make a window of 23 rows per engine, within the 90 % coverage of the median 24.
    expect(windows).toHaveLength(3 * ENGINES);
    expect(new Set(windows.map((w) => w.length))).toEqual(new Set([21 * 23, 21 * 24]));
  });

  it('watches the feature that varies within a window and drops the one that follows the age', () => {
    const wearFirst = modelJson(tree([1, -1, -1], [1, 0, 0], [5, 0, 0]), tree([1, -1, -1], [0, 0, 0], [1, 0, 0]));
    const ref = buildReference(matrix, [{ model: wearFirst, featureNames: ['noise', 'wear'] }]);
    expect(ref.topFeatures.map((t) => t.name)).toEqual(['noise']);
    expect(ref.watch).toMatchObject({ windowHours: 24, assets: 21, windows: 3 * ENGINES });
    const { nullPsi } = watchableFeatures(matrix, ref.features);
    expect(nullPsi.get('noise')).toBeLessThanOrEqual(0.1);
    // A window of one age holds about a third of the life: roughly 7 of 10 deciles empty.
    expect(nullPsi.get('wear')).toBeGreaterThan(1);
  });
});
