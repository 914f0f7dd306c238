/**
 * Objective table: how `base_score` (stored in output space) becomes the starting margin, and how a margin
 * becomes an output. Every step is rounded to float32 because libxgboost computes them in `float`.
 */

/** How an objective maps output space to margin space. */
export type Link = 'identity' | 'logit' | 'log';

/** The output transform `predict` applies to a margin. */
export type OutputTransform = 'identity' | 'sigmoid' | 'exp';

interface ObjectiveSpec {
  readonly link: Link;
  readonly transform: OutputTransform;
}

const LOGISTIC: ObjectiveSpec = { link: 'logit', transform: 'sigmoid' };
const IDENTITY: ObjectiveSpec = { link: 'identity', transform: 'identity' };
const LOG_EXP: ObjectiveSpec = { link: 'log', transform: 'exp' };

/** Single-output objectives the evaluator scores. */
export const OBJECTIVES: Readonly<Record<string, ObjectiveSpec>> = {
  'binary:logistic': LOGISTIC,
  'reg:logistic': LOGISTIC,
  // logitraw keeps the logistic link for base_score but returns the raw margin.
  'binary:logitraw': { link: 'logit', transform: 'identity' },
  'reg:squarederror': IDENTITY,
  'reg:linear': IDENTITY, // pre-1.0 alias of reg:squarederror
  'reg:squaredlogerror': IDENTITY,
  'reg:pseudohubererror': IDENTITY,
  'reg:absoluteerror': IDENTITY,
  'reg:quantileerror': IDENTITY,
  'count:poisson': LOG_EXP,
  'survival:cox': LOG_EXP,
  'reg:gamma': LOG_EXP,
  'reg:tweedie': LOG_EXP,
};

const f = Math.fround;
const SIGMOID_CLAMP = f(88.7);
const SIGMOID_EPS = f(1e-16);

/** `ProbToMargin` of the objective, in float32 like libxgboost. `b` must already be a float32 value. */
export function probToMargin(link: Link, b: number): number {
  switch (link) {
    case 'logit':
      return f(-f(Math.log(f(f(1 / b) - 1))));
    case 'log':
      return f(Math.log(b));
    default:
      return b;
  }
}

/**
 * xgboost's `common::Sigmoid`: `1 / (expf(min(-m, 88.7)) + 1 + 1e-16)` with float32 rounding after each
 * operation. `Math.exp` and C `expf` may differ by one float32 ulp on some inputs.
 */
export function sigmoid32(margin: number): number {
  const x = Math.min(-margin, SIGMOID_CLAMP);
  return f(1 / f(f(f(Math.exp(x)) + 1) + SIGMOID_EPS));
}

/** Applies an output transform to a float32 margin; the result is a float32 value. */
export function transformMargin(t: OutputTransform, margin: number): number {
  if (t === 'sigmoid') return sigmoid32(margin);
  if (t === 'exp') return f(Math.exp(margin));
  return margin;
}
