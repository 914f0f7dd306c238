/**
 * The feature-drift metric the features function publishes and the lifecycle stack alarms on: one
 * value per asset model, the maximum PSI over that model's top-10 features. Defined here for the
 * alarms; the publisher's constant must name the same metric (to be unified with it).
 */
import { Duration } from 'aws-cdk-lib';

export const DRIFT_METRIC = {
  namespace: 'pdm',
  name: 'FeatureDriftPsi',
  /** Dimension whose value is the asset model id. */
  dimension: 'AssetModel',
  /** Alarm period; the statistic is Maximum, so one drifted window in the hour is enough. */
  period: Duration.hours(1),
} as const;

/** Alarm names are fixed so runbooks and `aws cloudwatch set-alarm-state` can name them. */
export function driftAlarmName(stage: string, assetModel: string): string {
  return `pdm-${stage}-drift-${assetModel}`;
}
