/**
 * Prediction intervals for RUL predictors: split conformal, fitted on engines/assets held out from the
 * model's early stopping (see docs/models.md, "RUL intervals"). The manifest stores, per bin of the
 * point prediction, the residual quantiles `lower` and `upper` (truth − prediction, clock units); the
 * interval is `[rul + lower, rul + upper]`, floored at 0 and, when the model's target is capped, with
 * the upper bound held at the cap: a model trained on `min(RUL, cap)` cannot tell RUL beyond the cap,
 * so `rulUpper = rulCap` reads "the cap or more".
 *
 * Bins make the width follow the prediction: near end of life the errors are a few cycles, near the
 * cap they are tens, and one global width would be too wide where it matters and too narrow elsewhere.
 */
import { z } from 'zod';

const finite = z.number().refine(Number.isFinite, 'must be finite');

/** The `interval` field of a `rul` predictor's manifest entry. */
export const rulIntervalSchema = z
  .strictObject({
    method: z.literal('split-conformal'),
    /** Nominal coverage, e.g. 0.9. */
    level: finite.gt(0).lt(1),
    /** Upper edges of every bin but the last, ascending: bin i holds predictions < edges[i]. */
    edges: z.array(finite),
    /** Per bin, the residual quantiles (truth − prediction) that bound the interval; lower ≤ upper. */
    bins: z.array(z.strictObject({ lower: finite, upper: finite, n: z.number().int().positive() })).min(1),
    /** Held-out rows the quantiles come from, and where they came from. */
    calibrationRows: z.number().int().positive(),
    calibration: z.string().min(1),
  })
  .refine((i) => i.bins.length === i.edges.length + 1, 'bins must have one more entry than edges')
  .refine((i) => i.edges.every((e, k) => k === 0 || e > i.edges[k - 1]!), 'edges must ascend')
  .refine((i) => i.bins.every((b) => b.lower <= b.upper), 'lower must not exceed upper');

export type RulInterval = z.infer<typeof rulIntervalSchema>;

/** The bin a prediction falls in. */
function binOf(interval: RulInterval, rul: number): RulInterval['bins'][number] {
  const { edges, bins } = interval;
  let k = 0;
  while (k < edges.length && rul >= edges[k]!) k++;
  return bins[k]!;
}

/**
 * The interval around the (already floored) point prediction `rul`.
 * @param cap the training target's cap (`rulCap` of the entry); the upper bound is held at it.
 */
export function rulBounds(interval: RulInterval, rul: number, cap?: number): { lower: number; upper: number } {
  const bin = binOf(interval, rul);
  const lower = Math.max(0, rul + bin.lower);
  let upper = Math.max(lower, rul + bin.upper);
  if (cap !== undefined && upper > cap) upper = Math.max(lower, cap);
  return { lower, upper };
}
