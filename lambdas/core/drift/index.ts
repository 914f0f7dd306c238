/** Feature drift (PSI) against the training reference stored in the model bundle. See docs/drift.md. */
export * from './bins.ts';
export * from './psi.ts';
export * from './reference.ts';

/**
 * The CloudWatch metric the features function publishes, one per asset model, and the names the alarm
 * (CDK) must use. Only the `AssetModel` dimension: the function's default `service` dimension is left
 * off, so an alarm names `{ AssetModel: id }` and nothing else.
 */
export const DRIFT_METRIC = { namespace: 'pdm', name: 'FeatureDriftPsi', dimension: 'AssetModel' } as const;

/**
 * How the drift alarm judges the hourly metric (the CDK alarm and the local emulation): the hour's
 * Maximum must exceed the threshold in `datapoints` consecutive hours (CloudWatch `EvaluationPeriods` =
 * `DatapointsToAlarm`), and one hour at or below it, or without data, ends the alarm. The PSI is of a
 * 24 h window already; three hours more ask that the shift is still there after new data came in.
 */
export const DRIFT_ALARM = { periodHours: 1, datapoints: 3 } as const;

/** The ops event local mode puts on its bus when an asset model's PSI crosses the threshold (the emulated alarm). */
export const DRIFT_EVENT = { source: 'pdm.ops', detailType: 'ModelDriftDetected' } as const;

/** Detail of {@link DRIFT_EVENT}. */
export interface ModelDriftDetectedDetail {
  readonly assetModel: string;
  readonly psi: number;
  readonly feature: string;
  readonly threshold: number;
  readonly rows: number;
  readonly window: { readonly hours: number; readonly fromHour: number; readonly toHour: number };
  readonly features: readonly { readonly feature: string; readonly psi: number | null }[];
}

/** Key schema of the drift counter table (CDK and the DynamoDB adapter). */
export const DRIFT_TABLE_KEYS = { partitionKey: 'pk', sortKey: 'hour', ttl: 'expiresAt' } as const;

/** Hour bucket of an epoch-ms time: the unit of the rolling window's counters. */
export const hourOf = (ms: number): number => Math.floor(ms / 3_600_000);
