/**
 * The promotion gate on metric maps: may a challenger replace the champion? Pure. The retraining
 * pipeline's `autoPromote` calls it in AWS; `ml/registry/gate-metrics.ts` re-exports it for the local
 * registry's `gate(championRecord, challengerRecord, tolerances)` to build on (one rule, two callers).
 *
 * Rule: each metric both sides report is compared in its own direction. An error metric (RMSE) may
 * rise by at most `rmseRelative` of the champion's value; a ranking metric (PR-AUC) may fall by at most
 * `prAucAbsolute`. A metric the champion has and the challenger lacks (or reports as NaN) fails: a
 * model that cannot be measured is not promoted. No metric in common fails too.
 */

/** Metric name → value, as the evaluation JSON and CustomerMetadataProperties carry them. */
export type MetricMap = Readonly<Record<string, number>>;

export interface GateTolerances {
  /** RMSE may rise at most this fraction of the champion's RMSE. @default 0.02 */
  readonly rmseRelative: number;
  /** PR-AUC may fall at most this much (absolute). @default 0.01 */
  readonly prAucAbsolute: number;
}

export const DEFAULT_GATE_TOLERANCES: GateTolerances = { rmseRelative: 0.02, prAucAbsolute: 0.01 };

/** Metrics the gate compares, and which way is better. Others in the maps are ignored. */
export const GATED_METRICS = { prAuc: 'higher', rmse: 'lower' } as const;
export type GatedMetric = keyof typeof GATED_METRICS;

export interface MetricCheck {
  readonly metric: GatedMetric;
  readonly champion: number;
  readonly challenger: number;
  /** The worst value the challenger may have. */
  readonly limit: number;
  readonly pass: boolean;
}

export interface GateDecision {
  readonly pass: boolean;
  readonly checks: readonly MetricCheck[];
  /** One line per failed check, or why nothing could be compared. */
  readonly reasons: readonly string[];
}

export class GateToleranceError extends Error {
  override readonly name: string = 'GateToleranceError';
}

export function gateMetrics(champion: MetricMap, challenger: MetricMap, tolerances: GateTolerances = DEFAULT_GATE_TOLERANCES): GateDecision {
  for (const [k, v] of Object.entries(tolerances)) {
    if (!Number.isFinite(v) || v < 0) throw new GateToleranceError(`tolerance ${k} must be a finite number ≥ 0, got ${v}`);
  }
  const checks: MetricCheck[] = [];
  const reasons: string[] = [];
  for (const metric of Object.keys(GATED_METRICS) as GatedMetric[]) {
    const c = champion[metric];
    if (c === undefined || !Number.isFinite(c)) continue;
    const x = challenger[metric];
    const limit = GATED_METRICS[metric] === 'lower' ? c * (1 + tolerances.rmseRelative) : c - tolerances.prAucAbsolute;
    const measured = x !== undefined && Number.isFinite(x);
    const pass = measured && (GATED_METRICS[metric] === 'lower' ? x <= limit : x >= limit);
    checks.push({ metric, champion: c, challenger: measured ? x : Number.NaN, limit, pass });
    if (!measured) reasons.push(`${metric}: the champion has ${c}, the challenger reports none`);
    else if (!pass) reasons.push(`${metric}: challenger ${x} is ${GATED_METRICS[metric] === 'lower' ? 'above' : 'below'} the limit ${limit} (champion ${c})`);
  }
  if (checks.length === 0) reasons.push(`no gated metric (${Object.keys(GATED_METRICS).join(', ')}) in the champion's metrics`);
  return { pass: checks.length > 0 && checks.every((c) => c.pass), checks, reasons };
}
