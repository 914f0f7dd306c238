/**
 * An asset model's training reference for drift: per feature it serves, the training data's quantile
 * bins (float32 edges) and the share of training rows in each, and the features whose drift matters
 * most: the top ten by the gain the asset model's predictors earn from them. Stored in the model
 * bundle's manifest as `models[id].reference` (docs/drift.md), so every model version carries its own.
 */
import { z } from 'zod';
import { decodeUbjson } from '../model/ubjson.ts';
import { addToBins, binCount, binOf, QUANTILE_BINS, quantileEdges } from './bins.ts';
import { DEFAULT_MIN_COUNT, DEFAULT_PSI_THRESHOLD, DEFAULT_WINDOW_HOURS, psi, WINDOW_COVERAGE } from './psi.ts';

/** Features whose PSI decides an asset model's drift. */
export const TOP_FEATURES = 10;

const finite = z.number().refine(Number.isFinite, 'must be finite');

export const featureReferenceSchema = z
  .strictObject({
    /** float32 bin edges, strictly increasing; a value equal to an edge belongs to the bin above it. */
    edges: z.array(finite),
    /** Training share of each bin: `edges.length + 1` value bins, then the missing (NaN) bin. */
    shares: z.array(finite.min(0).max(1)),
  })
  .superRefine((f, ctx) => {
    if (f.shares.length !== binCount(f.edges)) {
      ctx.addIssue({ code: 'custom', message: `needs ${binCount(f.edges)} shares for ${f.edges.length} edges, has ${f.shares.length}` });
    }
    for (let i = 0; i < f.edges.length; i++) {
      const e = f.edges[i]!;
      if (Math.fround(e) !== e) ctx.addIssue({ code: 'custom', message: `edge ${i} (${e}) is not a float32` });
      if (i > 0 && !(e > f.edges[i - 1]!)) ctx.addIssue({ code: 'custom', message: 'edges must increase strictly' });
    }
    const sum = f.shares.reduce((a, s) => a + s, 0);
    if (Math.abs(sum - 1) > 1e-4) ctx.addIssue({ code: 'custom', message: `shares sum to ${sum}, not 1` });
  });

export const assetModelReferenceSchema = z
  .strictObject({
    /** Training rows the bins were counted over. */
    rows: z.number().int().positive(),
    /** Where the rows came from (the predictors' training data). */
    source: z.string().min(1),
    /**
     * The features drift is judged on, most gain first; gain share summed over the predictors. Empty
     * only when `watch` found none a window can judge: the monitor then publishes no PSI.
     */
    topFeatures: z
      .array(
        z.strictObject({
          name: z.string().min(1),
          gainShare: finite.min(0),
          /** The feature's PSI in the training data's own windows (the `watch.quantile` over them). */
          nullPsi: finite.min(0).optional(),
        }),
      )
      .max(TOP_FEATURES),
    features: z.record(z.string(), featureReferenceSchema),
    /**
     * How the watched features were chosen: only those whose PSI stays low in windows cut from the
     * training rows themselves (see {@link watchableFeatures}). Absent on references made without
     * per-row asset and time: their top features are ranked by gain alone.
     */
    watch: z
      .strictObject({
        windowHours: z.number().int().positive(),
        assets: z.number().int().positive(),
        windows: z.number().int().positive(),
        quantile: finite.gt(0).max(1),
        maxNullPsi: finite.gt(0),
      })
      .optional(),
  })
  .superRefine((r, ctx) => {
    if (r.topFeatures.length === 0 && !r.watch) {
      ctx.addIssue({ code: 'custom', message: 'no top features, and no watch rule that found none watchable' });
    }
    const names = new Set<string>();
    for (const t of r.topFeatures) {
      if (!(t.name in r.features)) ctx.addIssue({ code: 'custom', message: `top feature ${t.name} has no bins` });
      if (names.has(t.name)) ctx.addIssue({ code: 'custom', message: `top feature ${t.name} listed twice` });
      names.add(t.name);
    }
  });

export type FeatureReference = z.infer<typeof featureReferenceSchema>;
export type AssetModelReference = z.infer<typeof assetModelReferenceSchema>;

/** A model file's trees cannot be read for their gain. */
export class ReferenceBuildError extends Error {
  override readonly name: string = 'ReferenceBuildError';
}

/** Bins of one feature's training values, with their shares. */
export function featureReference(values: ArrayLike<number>, bins: number = QUANTILE_BINS): FeatureReference {
  const edges = quantileEdges(values, bins);
  const counts = new Array<number>(binCount(edges)).fill(0);
  addToBins(edges, Array.from(values), counts);
  const n = values.length;
  return { edges, shares: counts.map((c) => (n === 0 ? 0 : round6(c / n))) };
}

const round6 = (x: number) => Math.round(x * 1e6) / 1e6;

interface TreeJson {
  readonly left_children: ArrayLike<number>;
  readonly split_indices: ArrayLike<number>;
  readonly loss_changes: ArrayLike<number>;
}

/**
 * Total gain (`loss_changes` summed over split nodes) per column of an XGBoost JSON or UBJSON model:
 * xgboost's `importance_type='total_gain'`.
 */
export function totalGainByColumn(model: string | Uint8Array, numColumns: number): Float64Array {
  let doc: unknown;
  try {
    doc = typeof model === 'string' ? JSON.parse(model) : isJsonText(model) ? JSON.parse(new TextDecoder().decode(model)) : decodeUbjson(model);
  } catch (e) {
    throw new ReferenceBuildError(`model is neither XGBoost JSON nor UBJSON: ${(e as Error).message}`);
  }
  const trees = (doc as { learner?: { gradient_booster?: { model?: { trees?: unknown } } } })?.learner?.gradient_booster?.model
    ?.trees;
  if (!Array.isArray(trees)) throw new ReferenceBuildError('model has no learner.gradient_booster.model.trees');
  const gain = new Float64Array(numColumns);
  for (const t of trees as TreeJson[]) {
    for (let i = 0; i < t.left_children.length; i++) {
      if (t.left_children[i] === -1) continue;
      const j = t.split_indices[i]!;
      if (j < 0 || j >= numColumns) throw new ReferenceBuildError(`split on column ${j}, the model has ${numColumns}`);
      gain[j]! += Number(t.loss_changes[i]);
    }
  }
  return gain;
}

/** JSON text opens with `{` then a quoted key; UBJSON's `{` is followed by a length or key-size marker. */
function isJsonText(bytes: Uint8Array): boolean {
  const ws = (c: number | undefined) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
  let i = 0;
  while (ws(bytes[i])) i++;
  if (bytes[i] !== 0x7b) return false;
  i++;
  while (ws(bytes[i])) i++;
  return bytes[i] === 0x22 || bytes[i] === 0x7d;
}

/** One predictor as the reference needs it: its model file and its columns' names. */
export interface ReferencePredictor {
  readonly model: string | Uint8Array;
  readonly featureNames: readonly string[];
}

/**
 * The top features over several predictors. Each predictor's gains are first turned into shares of its
 * own total: a regression's squared-error gain in ms² and a classifier's log-loss gain are on scales
 * that differ by many orders of magnitude, so raw sums would let the RUL model alone choose.
 */
export function topFeaturesByGain(
  predictors: readonly ReferencePredictor[],
  k: number = TOP_FEATURES,
): { name: string; gainShare: number }[] {
  const total = new Map<string, number>();
  for (const p of predictors) {
    const gain = totalGainByColumn(p.model, p.featureNames.length);
    const sum = gain.reduce((a, g) => a + g, 0);
    if (!(sum > 0)) continue;
    p.featureNames.forEach((name, j) => {
      if (gain[j]! > 0) total.set(name, (total.get(name) ?? 0) + gain[j]! / sum);
    });
  }
  return [...total]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, k)
    .map(([name, g]) => ({ name, gainShare: round6(g) }));
}

/** A training matrix: `n` rows of `names.length` float32 columns, row-major. */
export interface TrainingMatrix {
  readonly names: readonly string[];
  readonly x: ArrayLike<number>;
  readonly n: number;
  /** Human-readable origin, stored as `source`. */
  readonly source: string;
  /**
   * Each row's asset (any integer id) and event time (epoch ms): with them the watched features are
   * chosen by {@link watchableFeatures}; without, by gain alone.
   */
  readonly keys?: {
    readonly asset: ArrayLike<number>;
    readonly t: ArrayLike<number>;
    /**
     * Time between an asset's samples in service, ms, when the training rows are thinner (a trainer
     * that keeps every k-th row): how many assets a window needs depends on the served rate.
     * @default the training rows' own rate
     */
    readonly serviceIntervalMs?: number;
  };
}

/**
 * How the training data's own windows are cut to find the features a window can judge: windows of
 * `assets` assets × `windowHours` of event time, as the monitor reads them, and the bound their PSI
 * must stay under (at the `quantile`) for the feature to be watched.
 */
export interface WatchOptions {
  /** @default DEFAULT_WINDOW_HOURS (24) */
  readonly windowHours?: number;
  /** @default {@link watchAssets}: enough assets for a window to reach `minCount` rows */
  readonly assets?: number;
  /** The monitor's minimum rows per window. @default DEFAULT_MIN_COUNT (500) */
  readonly minCount?: number;
  /** @default 0.95 */
  readonly quantile?: number;
  /** @default DEFAULT_PSI_THRESHOLD / 2 (0.1) */
  readonly maxNullPsi?: number;
}

/** Per window of event time, each asset's rows, keeping only assets with a full window of rows. */
function fullAssetWindows(keys: NonNullable<TrainingMatrix['keys']>, n: number, windowMs: number): { window: number; rows: number[][] }[] {
  const cells = new Map<number, Map<number, number[]>>();
  for (let r = 0; r < n; r++) {
    const w = Math.floor(keys.t[r]! / windowMs);
    const a = keys.asset[r]!;
    let byAsset = cells.get(w);
    if (!byAsset) cells.set(w, (byAsset = new Map()));
    const rows = byAsset.get(a);
    if (rows) rows.push(r);
    else byAsset.set(a, [r]);
  }
  const sizes = [...cells.values()].flatMap((m) => [...m.values()].map((rows) => rows.length)).sort((x, y) => x - y);
  if (sizes.length === 0) return [];
  // An asset-window with fewer rows than most is a run's edge (the monitor also needs full windows).
  const full = WINDOW_COVERAGE * sizes[Math.floor(sizes.length / 2)]!;
  return [...cells.keys()]
    .sort((x, y) => x - y)
    .map((w) => ({
      window: w,
      rows: [...cells.get(w)!]
        .filter(([, rows]) => rows.length >= full)
        .sort((x, y) => x[0] - y[0])
        .map(([, rows]) => rows),
    }));
}

/**
 * Assets per window of the training data's own windows: the fewest whose served rows in a window reach
 * the monitor's minimum count (a window with fewer rows gets no PSI, so none is ever judged), and at
 * most the most assets any window of the training data has. A 24 h window of 10-minute samples (144
 * rows) needs 4 assets; one of hourly samples or of one cycle an hour (24 rows) needs 21, so a fleet
 * of 20 machines uses all 20, the nearest the data comes to a window the monitor would judge.
 * @returns 0 when no asset has a full window
 */
export function watchAssets(keys: NonNullable<TrainingMatrix['keys']>, n: number, windowMs: number, minCount: number = DEFAULT_MIN_COUNT): number {
  const windows = fullAssetWindows(keys, n, windowMs);
  const perAsset = windows.flatMap((w) => w.rows.map((rows) => rows.length)).sort((x, y) => x - y);
  if (perAsset.length === 0) return 0;
  const served = keys.serviceIntervalMs ? Math.floor(windowMs / keys.serviceIntervalMs) : perAsset[Math.floor(perAsset.length / 2)]!;
  const needed = Math.ceil(minCount / served);
  return Math.min(needed, Math.max(...windows.map((w) => w.rows.length)));
}

/**
 * Windows cut from the training rows as the monitor would see them: per window of event time, groups
 * of `assets` assets that each have a full window of rows (asset i with the next assets − 1 present,
 * in asset order, wrapping). Each window is a list of row indices.
 */
export function trainingWindows(keys: NonNullable<TrainingMatrix['keys']>, n: number, windowMs: number, assets: number): number[][] {
  const windows: number[][] = [];
  for (const { rows: present } of fullAssetWindows(keys, n, windowMs)) {
    if (present.length < assets) continue;
    // With exactly `assets` present every rotation is the same group.
    const groups = present.length === assets ? 1 : present.length;
    for (let i = 0; i < groups; i++) {
      const rows: number[] = [];
      for (let j = 0; j < assets; j++) rows.push(...present[(i + j) % present.length]!);
      windows.push(rows);
    }
  }
  return windows;
}

/** PSI of one feature's training reference in each window (the reference's own bins). */
export function windowPsis(ref: FeatureReference, column: (r: number) => number, windows: readonly number[][]): number[] {
  return windows.map((rows) => {
    const counts = new Array<number>(ref.shares.length).fill(0);
    for (const r of rows) counts[binOf(ref.edges, column(r))]! += 1;
    return psi(ref.shares, counts);
  });
}

/**
 * The features a drift window can judge. A window of a few assets over a day is a fair sample of a
 * feature's training distribution only when the feature varies within an asset-day as much as across
 * the data: a raw reading under a daily load cycle does; a 7-day statistic (one slowly moving value
 * per asset) does not, nor a wear-driven one (a healthy day sits in the low bins, a worn day in the
 * high ones), and their PSI is large on windows of the very data the reference was made from. So each
 * served feature's PSI is computed on the training data's own windows, and a feature is watched only
 * when that PSI's `quantile` stays at or below `maxNullPsi`: otherwise the alarm would fire on the
 * training fleet itself. Returns each feature's quantile PSI.
 * @throws ReferenceBuildError when no window of `assets` assets with full rows exists (by default as
 *   many assets as a window needs to reach the monitor's minimum count, see {@link watchAssets})
 */
export function watchableFeatures(
  matrix: TrainingMatrix,
  features: Readonly<Record<string, FeatureReference>>,
  opts: WatchOptions = {},
): { nullPsi: Map<string, number>; watch: NonNullable<AssetModelReference['watch']> } {
  const windowHours = opts.windowHours ?? DEFAULT_WINDOW_HOURS;
  const quantile = opts.quantile ?? 0.95;
  const maxNullPsi = opts.maxNullPsi ?? DEFAULT_PSI_THRESHOLD / 2;
  if (!matrix.keys) throw new ReferenceBuildError('the training matrix has no per-row asset and time');
  const windowMs = windowHours * 3_600_000;
  const assets = opts.assets ?? watchAssets(matrix.keys, matrix.n, windowMs, opts.minCount);
  if (!(Number.isInteger(assets) && assets >= 1)) {
    throw new ReferenceBuildError(`the training rows hold no full ${windowHours} h window of any asset: cannot judge which features a window can watch`);
  }
  const windows = trainingWindows(matrix.keys, matrix.n, windowMs, assets);
  if (windows.length === 0) {
    throw new ReferenceBuildError(`the training rows hold no ${windowHours} h window with ${assets} assets' full rows: cannot judge which features a window can watch`);
  }
  const f = matrix.names.length;
  const nullPsi = new Map<string, number>();
  for (const [name, ref] of Object.entries(features)) {
    const j = matrix.names.indexOf(name);
    const psis = windowPsis(ref, (r) => matrix.x[r * f + j]!, windows).sort((a, b) => a - b);
    nullPsi.set(name, round6(psis[Math.min(psis.length - 1, Math.floor(quantile * psis.length))]!));
  }
  return { nullPsi, watch: { windowHours, assets, windows: windows.length, quantile, maxNullPsi } };
}

/**
 * The reference of an asset model: bins of every feature its predictors read, counted over the rows
 * its predictors were trained on, and its top features by gain: with per-row asset and time, only
 * among those {@link watchableFeatures} keeps (possibly none), else by gain alone.
 * @throws ReferenceBuildError when a predictor reads a column the matrix lacks or no model has a split.
 */
export function buildReference(
  matrix: TrainingMatrix,
  predictors: readonly ReferencePredictor[],
  watchOptions: WatchOptions = {},
): AssetModelReference {
  const f = matrix.names.length;
  if (matrix.n <= 0) throw new ReferenceBuildError('the training matrix has no rows');
  if (matrix.x.length !== matrix.n * f) {
    throw new ReferenceBuildError(`matrix holds ${matrix.x.length} values, ${matrix.n} rows × ${f} columns need ${matrix.n * f}`);
  }
  const column = new Map(matrix.names.map((n, j) => [n, j]));
  const served = [...new Set(predictors.flatMap((p) => p.featureNames))];
  const missing = served.filter((n) => !column.has(n));
  if (missing.length > 0) throw new ReferenceBuildError(`the training matrix lacks ${missing.slice(0, 5).join(', ')}`);
  const features: Record<string, FeatureReference> = {};
  const values = new Float32Array(matrix.n);
  for (const name of served.sort()) {
    const j = column.get(name)!;
    for (let r = 0; r < matrix.n; r++) values[r] = matrix.x[r * f + j]!;
    features[name] = featureReference(values);
  }
  const ranked = topFeaturesByGain(predictors, Number.POSITIVE_INFINITY);
  if (ranked.length === 0) throw new ReferenceBuildError('no predictor has a split: no feature has gain');
  const base = { rows: matrix.n, source: matrix.source, features };
  if (!matrix.keys) return assetModelReferenceSchema.parse({ ...base, topFeatures: ranked.slice(0, TOP_FEATURES) });
  const { nullPsi, watch } = watchableFeatures(matrix, features, watchOptions);
  // Nothing watchable leaves topFeatures empty (no PSI is published) rather than falling back to gain:
  // the features that fail the check are those that breach on the healthy training fleet itself.
  const topFeatures = ranked
    .filter((t) => nullPsi.get(t.name)! <= watch.maxNullPsi && valueBinsFilled(features[t.name]!) > 1)
    .slice(0, TOP_FEATURES)
    .map((t) => ({ ...t, nullPsi: nullPsi.get(t.name)! }));
  return assetModelReferenceSchema.parse({ ...base, topFeatures, watch });
}

/**
 * Value bins (not the missing bin) holding training rows. With one, every training value sits in one
 * bin (a count that is 0 on nearly every row): the window's PSI is 0 whatever its values, so the
 * self-check passes it trivially and it would take a watched place without ever reporting drift.
 */
export function valueBinsFilled(ref: FeatureReference): number {
  return ref.shares.slice(0, -1).filter((s) => s > 0).length;
}
