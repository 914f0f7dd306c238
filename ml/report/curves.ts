/**
 * PR and ROC curve points from raw scores and 0/1 labels, for plotting. One point per distinct score
 * (ties move together, as in sklearn's `precision_recall_curve`/`roc_curve`), thinned for large inputs.
 */
import { type Point, ReportInputError } from './svg.ts';

export interface Curves {
  /** (recall, precision), from recall 0 (precision 1) to recall 1. */
  readonly pr: Point[];
  /** (false-positive rate, true-positive rate), from (0, 0) to (1, 1). */
  readonly roc: Point[];
  /** Share of positives: the PR curve of a random ranking. */
  readonly prevalence: number;
}

function check(scores: ArrayLike<number>, labels: ArrayLike<number>): void {
  if (scores.length !== labels.length) {
    throw new ReportInputError(`${scores.length} scores for ${labels.length} labels`);
  }
  for (let i = 0; i < scores.length; i++) {
    if (!Number.isFinite(scores[i]!)) throw new ReportInputError(`score ${i} is ${scores[i]}; scores must be finite`);
    const y = labels[i]!;
    if (y !== 0 && y !== 1) throw new ReportInputError(`label ${i} is ${y}; labels must be 0 or 1`);
  }
}

/** Keeps at most `max` points, always the first and last, evenly spaced by index. */
function thin(points: Point[], max: number): Point[] {
  if (points.length <= max) return points;
  const out: Point[] = [];
  const step = (points.length - 1) / (max - 1);
  for (let k = 0; k < max; k++) out.push(points[Math.round(k * step)]!);
  return out;
}

/**
 * Curves of `scores` (higher = more likely positive) against `labels`. Empty curves when either class
 * is absent (neither curve is defined then); non-finite scores or labels other than 0/1 throw.
 * @param maxPoints per curve. @default 1000
 */
export function curvesFromScores(scores: ArrayLike<number>, labels: ArrayLike<number>, maxPoints = 1000): Curves {
  check(scores, labels);
  const n = scores.length;
  let pos = 0;
  for (let i = 0; i < n; i++) pos += labels[i]!;
  const neg = n - pos;
  if (pos === 0 || neg === 0) return { pr: [], roc: [], prevalence: n === 0 ? Number.NaN : pos / n };
  const idx = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[b]! - scores[a]!);
  const pr: Point[] = [{ x: 0, y: 1 }];
  const roc: Point[] = [{ x: 0, y: 0 }];
  let tp = 0;
  let fp = 0;
  let i = 0;
  while (i < n) {
    const s = scores[idx[i]!]!;
    while (i < n && scores[idx[i]!] === s) {
      if (labels[idx[i]!] === 1) tp++;
      else fp++;
      i++;
    }
    pr.push({ x: tp / pos, y: tp / (tp + fp) });
    roc.push({ x: fp / neg, y: tp / pos });
  }
  return { pr: thin(pr, maxPoints), roc: thin(roc, maxPoints), prevalence: pos / n };
}
