/**
 * Alert policy: which health changes become `TwinHealthChanged` events, with what severity, and what
 * the early warning is worth. Pure functions; publishing to EventBridge is an adapter's job.
 */
import type { HealthState } from '../twin/health.ts';

export const ALERT_SOURCE = 'pdm.twin';
export const ALERT_DETAIL_TYPE = 'TwinHealthChanged';
export const ALERT_DETAIL_VERSION = '1';

export type Severity = 'critical' | 'warning' | 'info';

export function severityOf(to: HealthState): Severity {
  if (to === 'CRITICAL') return 'critical';
  if (to === 'WARNING') return 'warning';
  return 'info';
}

export interface AlertPolicy {
  /** Clock units during which a repeat of the same change (same scope, same target state) is suppressed. @default 6 h / 10 cycles */
  readonly cooldown: number;
  /** Downtime cost in USD per hour. @default the asset model's `downtimeCostPerHour` */
  readonly costPerHour: number;
  /** Hours an unplanned failure stops the asset. @default 24 */
  readonly unplannedDowntimeHours: number;
  /** Hours a planned intervention stops the asset. @default 4 */
  readonly plannedDowntimeHours: number;
  /** Lead time in hours needed to plan the intervention; less lead time saves proportionally less. @default 48 */
  readonly requiredLeadHours: number;
  /** Hours per clock unit (1/3,600,000 for time clocks; average flight hours per cycle for cycle clocks). */
  readonly hoursPerClockUnit: number;
  /** Include transitions of severity `info` (WATCH, recoveries, maintenance) as events. @default true */
  readonly emitInfo: boolean;
}

export function defaultAlertPolicy(
  clock: 'time' | 'cycle',
  costPerHour: number,
  overrides: Partial<AlertPolicy> = {},
): AlertPolicy {
  return {
    cooldown: clock === 'time' ? 6 * 3_600_000 : 10,
    costPerHour,
    unplannedDowntimeHours: 24,
    plannedDowntimeHours: 4,
    requiredLeadHours: 48,
    hoursPerClockUnit: clock === 'time' ? 1 / 3_600_000 : 2,
    emitInfo: true,
    ...overrides,
  };
}

export interface CostInputs {
  /**
   * Calibrated probability that the asset (or, for a component alert, the component) fails within the
   * model's horizon. Risk is not a probability and is never used here.
   */
  readonly failureProbability: number;
  /** Remaining useful life in clock units, when a model estimates it. */
  readonly rul: number | null;
}

/**
 * Expected downtime cost avoided by acting on this alert now:
 * p(failure) × (unplanned − planned downtime hours) × cost per hour × lead factor, where the lead factor
 * is min(1, RUL hours / required lead hours) — an alert with too little lead time saves less.
 */
export function estimateCostAvoided(p: AlertPolicy, inputs: CostInputs): number {
  const hoursSaved = Math.max(0, p.unplannedDowntimeHours - p.plannedDowntimeHours);
  const probability = Math.min(1, Math.max(0, inputs.failureProbability));
  const leadFactor =
    inputs.rul === null || p.requiredLeadHours <= 0
      ? 1
      : Math.min(1, Math.max(0, (inputs.rul * p.hoursPerClockUnit) / p.requiredLeadHours));
  return Math.round(probability * hoursSaved * p.costPerHour * leadFactor * 100) / 100;
}

/** Last emitted alert per scope and target state, stored in the twin for the cooldown. */
export type AlertLedger = Record<string, number>;

/**
 * Decides whether a change at clock time `at` is emitted: not if it is info and info is off, not if
 * the same scope went to the same state within the cooldown. Mutates the ledger when it emits.
 */
export function shouldEmit(
  ledger: AlertLedger,
  scopeKey: string,
  to: HealthState,
  at: number,
  p: AlertPolicy,
): boolean {
  if (!p.emitInfo && severityOf(to) === 'info') return false;
  const key = `${scopeKey}:${to}`;
  const last = ledger[key];
  if (last !== undefined && at - last < p.cooldown && at >= last) return false;
  ledger[key] = at;
  return true;
}

/**
 * The signal that set a risk: the anomaly score, the asset's failure classifier, the RUL estimate, or a
 * component's classifier. When the risk came through a component (the asset's worst component, or a
 * component alert), `component` names it. `maintenance` marks changes a maintenance message caused.
 */
export type RiskSignal = 'anomaly' | 'failure-model' | 'component-model' | 'rul' | 'maintenance';

export interface RiskDriver {
  readonly signal: RiskSignal;
  readonly component?: string;
  /** The signal's value on the health scale, [0, 1]. */
  readonly risk: number;
}

export interface ContributingSensor {
  readonly sensor: string;
  readonly share: number;
}

/** `detail` of the EventBridge event (the contract is in the README and schemas/). */
export interface TwinHealthChangedDetail {
  readonly version: typeof ALERT_DETAIL_VERSION;
  /** Stable id: the same change replayed produces the same id, so consumers can dedupe. */
  readonly alertId: string;
  readonly assetId: string;
  readonly siteId: string;
  readonly assetModel: string;
  readonly scope: 'asset' | 'component';
  readonly component?: string;
  readonly from: HealthState;
  readonly to: HealthState;
  readonly severity: Severity;
  /** Time of the sample that caused the change (ISO-8601) and its sequence number. */
  readonly at: string;
  readonly seq: number;
  readonly scores: {
    readonly risk: number;
    readonly anomaly: number;
    /**
     * Calibrated probability of failure within the model's horizon: of the component for a component
     * alert that has a component model, of the asset otherwise; null without a failure model.
     */
    readonly failureProbability: number | null;
    readonly rul: number | null;
    /** The 90 % interval of `rul`, when the RUL model has one; same unit. */
    readonly rulLower?: number | null;
    readonly rulUpper?: number | null;
    readonly rulUnit: 'hours' | 'cycles';
  };
  /** Which signal drove the change (absent only in events written before drivers existed). */
  readonly driver?: RiskDriver;
  /** True when the state was held below WARNING because the asset or part has too little history yet. */
  readonly warmingUp?: boolean;
  readonly topContributors: readonly ContributingSensor[];
  /**
   * p(failure) × (unplanned − planned downtime hours) × cost per hour × min(1, RUL / required lead),
   * with `failureProbability` above; 0 when no model gives a failure probability.
   */
  readonly estimatedCostAvoidedUsd: number;
}
