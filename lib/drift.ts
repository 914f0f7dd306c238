/**
 * The feature-drift alarm's metric: what the features function publishes (`DRIFT_METRIC` of the core:
 * one value per asset model, the maximum PSI over that model's top-10 features, docs/drift.md) plus
 * the alarm's period. The statistic is Maximum, so one drifted evaluation in the hour makes the hour
 * breach; the alarm needs {@link DRIFT_DATAPOINTS} such hours in a row.
 */
import { Duration } from 'aws-cdk-lib';
import { DRIFT_ALARM, DRIFT_METRIC as PUBLISHED } from '../lambdas/core/drift/index.ts';

export const DRIFT_METRIC = { ...PUBLISHED, period: Duration.hours(DRIFT_ALARM.periodHours) } as const;

/** Consecutive breaching hours before ALARM; the local emulation (local/runtime/drift-alarm.ts) uses the same. */
export const DRIFT_DATAPOINTS = DRIFT_ALARM.datapoints;

/** Alarm names are fixed so runbooks and `aws cloudwatch set-alarm-state` can name them. */
export function driftAlarmName(stage: string, assetModel: string): string {
  return `pdm-${stage}-drift-${assetModel}`;
}
