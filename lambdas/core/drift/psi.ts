/**
 * Population stability index of a window of served feature vectors against the training reference
 * (docs/drift.md): PSI = Σᵢ (aᵢ − eᵢ)·ln(aᵢ/eᵢ) over the reference bins, eᵢ the training share and
 * aᵢ the window's share of bin i (notes: CRAN `scorecard::perf_psi`), both floored at ε so that an empty
 * bin costs a large but finite term instead of an infinite one.
 */
import { binCount, binOf } from './bins.ts';
import type { AssetModelReference } from './reference.ts';

/** Floor of both shares (notes §4: implementations use 1e-4 or 1e-6; 1e-4 caps one empty bin's term). */
export const PSI_EPSILON = 1e-4;

/** A window with fewer rows than this has no PSI (null, not 0): deciles of a few rows are noise. */
export const DEFAULT_MIN_COUNT = 500;

/**
 * The single alarm cut-off: 0.2 (validmind FeatureDrift; Yurdakul & Naranjo put "moderate" at
 * 0.10–0.25 and "significant" above 0.25, without a statistical error rate).
 */
export const DEFAULT_PSI_THRESHOLD = 0.2;

/** The rolling window the features function reads. */
export const DEFAULT_WINDOW_HOURS = 24;

export class DriftInputError extends Error {
  override readonly name: string = 'DriftInputError';
}

/** PSI of bin counts against reference shares of the same bins. @throws DriftInputError on a length mismatch */
export function psi(expectedShares: readonly number[], counts: readonly number[], epsilon: number = PSI_EPSILON): number {
  if (expectedShares.length !== counts.length) {
    throw new DriftInputError(`${counts.length} counts for ${expectedShares.length} reference bins`);
  }
  const n = counts.reduce((a, c) => a + c, 0);
  if (!(n > 0)) throw new DriftInputError('no rows counted');
  let sum = 0;
  for (let i = 0; i < counts.length; i++) {
    const e = Math.max(expectedShares[i]!, epsilon);
    const a = Math.max(counts[i]! / n, epsilon);
    sum += (a - e) * Math.log(a / e);
  }
  // Each term is ≥ 0 ((a − e) and ln(a/e) share their sign); clamp the last ulp of rounding.
  return Math.max(0, sum);
}

/**
 * Bin counts of a window over the reference's top features: `bins[k]` counts rows of
 * `reference.topFeatures[k]`; each row adds one to exactly one bin of every feature.
 */
export interface DriftCounts {
  rows: number;
  readonly bins: number[][];
  /** Distinct hours of event time the rows came from, when the counter knows it. */
  hours?: number;
}

/**
 * Share of a window's hours that must hold rows before it has a PSI: the watched features were chosen
 * on full windows of the training data (`watchableFeatures`), and a window of a few hours covers only
 * part of a daily load cycle, which a full day's reference reads as drift.
 */
export const WINDOW_COVERAGE = 0.9;

/** Empty counts shaped like the reference's top features. */
export function emptyCounts(reference: AssetModelReference): DriftCounts {
  return { rows: 0, bins: reference.topFeatures.map((t) => new Array<number>(binCount(reference.features[t.name]!.edges)).fill(0)) };
}

/** A reference ready to count vectors of the feature engine: the engine column of each top feature. */
export interface CompiledReference {
  readonly reference: AssetModelReference;
  readonly columns: Int32Array;
  readonly edges: readonly Float32Array[];
  /** Stable id of the bins (FNV-1a of the names and edges): counters of other bins must not be mixed in. */
  readonly id: string;
}

/** @throws DriftInputError when a top feature is not in the engine's names. */
export function compileReference(reference: AssetModelReference, engineNames: readonly string[]): CompiledReference {
  const index = new Map(engineNames.map((n, i) => [n, i]));
  const columns = Int32Array.from(reference.topFeatures, (t) => {
    const j = index.get(t.name);
    if (j === undefined) throw new DriftInputError(`top feature ${t.name} is not computed by the feature engine`);
    return j;
  });
  const edges = reference.topFeatures.map((t) => Float32Array.from(reference.features[t.name]!.edges));
  const text = reference.topFeatures.map((t, k) => `${t.name}:${Array.from(edges[k]!).join(',')}`).join('|');
  return { reference, columns, edges, id: fnv1a(text) };
}

/** Adds engine-ordered feature vectors to `counts`. */
export function countVectors(compiled: CompiledReference, vectors: Iterable<ArrayLike<number>>, counts: DriftCounts): DriftCounts {
  for (const v of vectors) {
    counts.rows += 1;
    for (let k = 0; k < compiled.columns.length; k++) {
      counts.bins[k]![binOf(compiled.edges[k]!, v[compiled.columns[k]!]!)]! += 1;
    }
  }
  return counts;
}

/** Sums counts of the same reference (e.g. hourly buckets). */
export function mergeCounts(into: DriftCounts, add: DriftCounts): DriftCounts {
  into.rows += add.rows;
  add.bins.forEach((b, k) => b.forEach((c, i) => (into.bins[k]![i]! += c)));
  return into;
}

export interface FeatureDrift {
  readonly feature: string;
  /** Null when the window has fewer rows than the minimum. */
  readonly psi: number | null;
}

export interface DriftReport {
  readonly assetModel: string;
  readonly rows: number;
  /** Max PSI over the top features; null below the minimum count. */
  readonly psi: number | null;
  /** The feature with that max; null when psi is. */
  readonly feature: string | null;
  /** Per top feature, most drifted first (reference order when PSI is null). */
  readonly features: readonly FeatureDrift[];
  /** Why there is no PSI, in words (null when there is one). */
  readonly reason: string | null;
}

export interface DriftOptions {
  /** @default DEFAULT_MIN_COUNT */
  readonly minCount?: number;
  /** Hours with rows a window needs (checked when the counts carry `hours`). @default 0 */
  readonly minHours?: number;
  /** @default PSI_EPSILON */
  readonly epsilon?: number;
}

/** Hours with rows a window of `windowHours` needs for a PSI ({@link WINDOW_COVERAGE}). */
export const minHoursOf = (windowHours: number): number => Math.ceil(WINDOW_COVERAGE * windowHours);

/**
 * Per-feature PSI and the asset model's: the max over its top features; null below the minimum rows or
 * hours, and when the reference watches no feature.
 */
export function assetModelDrift(
  assetModel: string,
  reference: AssetModelReference,
  counts: DriftCounts,
  opts: DriftOptions = {},
): DriftReport {
  const minCount = opts.minCount ?? DEFAULT_MIN_COUNT;
  if (!(minCount >= 1)) throw new DriftInputError(`minimum count must be ≥ 1, got ${minCount}`);
  if (counts.bins.length !== reference.topFeatures.length) {
    throw new DriftInputError(`${counts.bins.length} counted features for ${reference.topFeatures.length} top features`);
  }
  const minHours = opts.minHours ?? 0;
  // A reference with no watched feature (none passed its self-check) never has a PSI.
  const reason =
    reference.topFeatures.length === 0
      ? 'no watched feature: none passed the training data’s own-window check (docs/drift.md)'
      : counts.rows === 0
        ? 'not enough data: no rows in the window'
        : counts.rows < minCount
          ? `not enough data: ${counts.rows} rows, the minimum is ${minCount}`
          : counts.hours !== undefined && counts.hours < minHours
            ? `not enough data: rows in ${counts.hours} of the window's hours, ${minHours} needed`
            : null;
  const enough = reason === null;
  const features: FeatureDrift[] = reference.topFeatures.map((t, k) => ({
    feature: t.name,
    psi: enough ? psi(reference.features[t.name]!.shares, counts.bins[k]!, opts.epsilon) : null,
  }));
  if (!enough) return { assetModel, rows: counts.rows, psi: null, feature: null, features, reason };
  features.sort((a, b) => b.psi! - a.psi!);
  return { assetModel, rows: counts.rows, psi: features[0]!.psi, feature: features[0]!.feature, features, reason: null };
}

function fnv1a(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}
