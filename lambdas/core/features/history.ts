/**
 * Whole-history features: per featurised sensor, the mean of every accepted reading and the
 * least-squares slope of the readings on time, since the asset was onboarded or since the last
 * replacement of a component the sensor watches (a replacement resets wear, so the trend before it says
 * nothing about the new part). The windows of the ring engine see at most the long window; wear that
 * accumulates over hundreds of cycles shows in the whole-history trend (docs/cmapss.md measures it).
 *
 * Constant state per sensor, updated with bivariate Welford steps (no raw sums of squares, so epoch-ms
 * times and large readings with small spread keep their precision): see {@link HISTORY_SIZE}.
 * `batch.ts` recomputes the same figures in two passes from the sample list.
 */
import type { AssetModel } from '../catalog/types.ts';

/**
 * Numbers per sensor: `[since, n, ref, meanU, meanX, m2U, cUX]`. `since` = t of the last reset
 * ({@link NO_RESET} before any); `ref` = t of the first reading after it, and u = t − ref, so the
 * regression never squares epoch milliseconds; `m2U` and `cUX` are the centred sums of squares and
 * cross-products.
 */
export const HISTORY_SIZE = 7;

/** `since` before any reset: every t is at or after it. JSON keeps it exactly. */
export const NO_RESET = -Number.MAX_VALUE;

/** Name suffix of the whole-history statistics: `<sensor>_mean_all`, `<sensor>_slope_all`. */
export const HISTORY_LABEL = 'all';

/** Names of the whole-history features of `sensors`, in vector order. */
export function historyNames(sensors: readonly string[]): string[] {
  const names: string[] = [];
  for (const s of sensors) names.push(`${s}_mean_${HISTORY_LABEL}`, `${s}_slope_${HISTORY_LABEL}`);
  return names;
}

/** A fresh history block for `sensors` sensors. */
export function createHistory(sensors: number): number[] {
  const h = new Array<number>(sensors * HISTORY_SIZE).fill(0);
  for (let s = 0; s < sensors; s++) h[s * HISTORY_SIZE] = NO_RESET;
  return h;
}

/** Adds the readings of one accepted sample at `t`; readings before a sensor's last reset are ignored. */
export function addHistory(
  h: number[],
  sensors: readonly string[],
  t: number,
  readings: Readonly<Record<string, number>>,
): void {
  for (let s = 0; s < sensors.length; s++) {
    const raw = readings[sensors[s]!];
    if (raw === undefined) continue;
    const o = s * HISTORY_SIZE;
    if (t < h[o]!) continue;
    const x = raw + 0;
    const n0 = h[o + 1]!;
    if (n0 === 0) {
      h[o + 1] = 1;
      h[o + 2] = t;
      h[o + 3] = 0;
      h[o + 4] = x;
      h[o + 5] = 0;
      h[o + 6] = 0;
      continue;
    }
    const n1 = n0 + 1;
    const u = t - h[o + 2]!;
    const du = u - h[o + 3]!;
    const dx = x - h[o + 4]!;
    const meanT = h[o + 3]! + du / n1;
    const meanX = h[o + 4]! + dx / n1;
    h[o + 1] = n1;
    h[o + 3] = meanT;
    h[o + 4] = meanX;
    h[o + 5] = h[o + 5]! + du * (u - meanT);
    h[o + 6] = h[o + 6]! + du * (x - meanX);
  }
}

/**
 * Which sensors a replacement resets: those attributed to one of `components` in the catalog, or
 * every featurised sensor when the whole asset was replaced (`'all'`).
 */
export function sensorsReset(
  model: AssetModel,
  sensors: readonly string[],
  components: readonly string[] | 'all',
): boolean[] {
  return sensors.map(
    (name) => components === 'all' || (model.sensors[name]?.components ?? []).some((c) => components.includes(c)),
  );
}

/** Restarts the history of the sensors `reset` marks at `t`: later readings from `t` on start afresh. */
export function resetHistory(h: number[], reset: readonly boolean[], t: number): void {
  for (let s = 0; s < reset.length; s++) {
    if (!reset[s]) continue;
    const o = s * HISTORY_SIZE;
    h.fill(0, o, o + HISTORY_SIZE);
    h[o] = t + 0;
  }
}

/**
 * Writes `[mean, slope]` per sensor into `v` from `k`; NaN for a sensor without readings (mean) or
 * without two distinct times (slope). `rateScale` turns the slope per clock unit into per hour for
 * time clocks. Returns the next index.
 */
export function writeHistory(h: readonly number[], sensors: number, rateScale: number, v: Float64Array, k: number): number {
  let i = k;
  for (let s = 0; s < sensors; s++) {
    const o = s * HISTORY_SIZE;
    const n = h[o + 1]!;
    const m2T = h[o + 5]!;
    v[i++] = n > 0 ? h[o + 4]! : Number.NaN;
    v[i++] = n > 1 && m2T > 0 ? (h[o + 6]! / m2T) * rateScale : Number.NaN;
  }
  return i;
}

/** Two-pass reference of {@link writeHistory} over one sensor's readings (for `batch.ts`). */
export function historyStats(points: ReadonlyArray<{ t: number; x: number }>): [number, number] {
  const n = points.length;
  if (n === 0) return [Number.NaN, Number.NaN];
  // Times relative to the first point, as the streaming state keeps them: sums of epoch ms lose digits.
  const ref = points[0]!.t;
  let st = 0;
  let sx = 0;
  for (const p of points) {
    st += p.t - ref;
    sx += p.x;
  }
  const tbar = st / n;
  const xbar = sx / n;
  let stt = 0;
  let stx = 0;
  for (const p of points) {
    const du = p.t - ref - tbar;
    stt += du * du;
    stx += du * (p.x - xbar);
  }
  return [xbar, n > 1 && stt > 0 ? stx / stt : Number.NaN];
}
