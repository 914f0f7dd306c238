/**
 * The metric comparison behind promotion, shared with the AWS retraining pipeline (whose functions may
 * import the core only, so the rule lives in `lambdas/core/retrain/gate-metrics.ts`). The local
 * registry's `gate(championRecord, challengerRecord, tolerances)` should call `gateMetrics` on the two
 * records' metric maps so that `pdm models promote` and `autoPromote` apply one rule.
 */
export {
  DEFAULT_GATE_TOLERANCES,
  type GateDecision,
  type GateTolerances,
  GateToleranceError,
  GATED_METRICS,
  gateMetrics,
  type MetricCheck,
  type MetricMap,
} from '../../lambdas/core/retrain/gate-metrics.ts';
