/**
 * The history tables: one definition read by the CDK stack (Glue Iceberg tables), by the local store
 * (DuckDB → Parquet) and by the row builders below, so the cloud and the local layout cannot drift.
 *
 * Rows are built as the flat JSON objects Firehose delivers to Iceberg: one object per row, first-level
 * keys = column names, timestamps in epoch microseconds (Firehose requires microseconds for Iceberg
 * `timestamp`: https://docs.aws.amazon.com/firehose/latest/dev/apache-iceberg-destination-supp.html),
 * missing values as `null` (JSON has no NaN). Pure: no I/O.
 */
import type { TwinHealthChangedDetail } from '../alerts/policy.ts';
import type { QuarantineRecord } from '../cleaning/reasons.ts';
import type { FeatureRow, Prediction, TwinTransition } from '../twin/twin.ts';
import type { CleanSample, MaintenanceEvent } from '../types.ts';

/**
 * Version of the table layout. Bumped on any column change; the stack writes it as the table property
 * `pdm.schema-version`, and docs/history.md lists what each version changed.
 */
export const HISTORY_SCHEMA_VERSION = 2;

export type ColumnType = 'string' | 'long' | 'int' | 'double' | 'timestamp' | 'map<string,double>' | 'list<double>';

export interface Column {
  readonly name: string;
  readonly type: ColumnType;
  /** Never null. */
  readonly required?: boolean;
  readonly doc: string;
}

/** Iceberg partition transforms the tables use: hidden partitions, so queries filter on `ts` itself. */
export type PartitionField =
  | { readonly source: string; readonly transform: 'day' }
  | { readonly source: string; readonly transform: 'bucket'; readonly buckets: number };

export interface TableDef {
  readonly name: HistoryTable;
  readonly doc: string;
  readonly columns: readonly Column[];
  readonly partition: readonly PartitionField[];
}

export const HISTORY_TABLES = [
  'telemetry',
  'features',
  'predictions',
  'transitions',
  'alerts',
  'maintenance',
  'events',
  'quarantine',
] as const;
export type HistoryTable = (typeof HISTORY_TABLES)[number];

const asset: Column = { name: 'asset_id', type: 'string', required: true, doc: 'asset id (MQTT topic segment)' };
const site: Column = { name: 'site_id', type: 'string', doc: 'site id' };
const model: Column = { name: 'model_id', type: 'string', doc: 'asset model id (catalog)' };
const ts: Column = { name: 'ts', type: 'timestamp', required: true, doc: 'sample time (UTC)' };
const seq: Column = { name: 'seq', type: 'long', doc: 'per-asset sequence number of the sample' };

/** Per-sample tables: a day of a large fleet is large, so asset lookups also prune by a hash bucket. */
const bySampleDayAndAsset: readonly PartitionField[] = [
  { source: 'ts', transform: 'day' },
  { source: 'asset_id', transform: 'bucket', buckets: 16 },
];
/** Event tables: a few rows per asset per day; more partitions would only make small files. */
const byDay: readonly PartitionField[] = [{ source: 'ts', transform: 'day' }];

export const TABLE_DEFS: Readonly<Record<HistoryTable, TableDef>> = {
  telemetry: {
    name: 'telemetry',
    doc: 'clean readings, one row per accepted sample',
    columns: [
      asset,
      site,
      model,
      ts,
      { ...seq, required: true },
      { name: 'readings', type: 'map<string,double>', required: true, doc: 'sensor name (lower case) → value' },
      { name: 'component', type: 'string', doc: 'component the sample is about, when the device says' },
      { name: 'received_at', type: 'timestamp', doc: 'when the pipeline received the message' },
    ],
    partition: bySampleDayAndAsset,
  },
  features: {
    name: 'features',
    doc: 'feature vectors and anomaly score, one row per accepted sample',
    columns: [
      asset,
      site,
      model,
      ts,
      { ...seq, required: true },
      { name: 't', type: 'double', doc: "the asset model's clock: epoch ms, or the cycle number" },
      { name: 'anomaly', type: 'double', doc: 'calibrated anomaly score 0..1' },
      { name: 'feature_engine', type: 'string', doc: 'feature engine version the vector was computed with' },
      {
        name: 'vector',
        type: 'list<double>',
        doc: "features in the order of the asset model's feature names (docs/features.md); null = undefined; empty when the model has no predictors",
      },
    ],
    partition: bySampleDayAndAsset,
  },
  predictions: {
    name: 'predictions',
    doc: 'every model output, with the model version that produced it',
    columns: [
      asset,
      site,
      model,
      ts,
      { ...seq, required: true },
      { name: 'anomaly', type: 'double', doc: 'calibrated anomaly score 0..1' },
      { name: 'failure_probability', type: 'double', doc: 'P(failure within the horizon)' },
      { name: 'rul', type: 'double', doc: 'remaining useful life in clock units' },
      { name: 'component_failure', type: 'map<string,double>', doc: 'component → P(failure)' },
      { name: 'scored_by', type: 'string', doc: 'endpoint | fallback | in-process | none' },
      { name: 'model_version', type: 'string', doc: 'model bundle version of the asset model (hash of its predictor files)' },
      {
        name: 'role',
        type: 'string',
        doc: 'champion (decides) | challenger (shadow-scored, decides nothing); null in rows of schema 1 = champion',
      },
    ],
    partition: bySampleDayAndAsset,
  },
  transitions: {
    name: 'transitions',
    doc: 'twin health state changes (asset and components)',
    columns: [
      asset,
      site,
      model,
      { ...ts, doc: 'time of the sample that caused the change' },
      seq,
      { name: 'scope', type: 'string', required: true, doc: 'asset | component' },
      { name: 'component', type: 'string', doc: 'component, for scope = component' },
      { name: 'from_state', type: 'string', required: true, doc: 'health state before' },
      { name: 'to_state', type: 'string', required: true, doc: 'health state after' },
    ],
    partition: byDay,
  },
  alerts: {
    name: 'alerts',
    doc: 'alerts decided by the twin (TwinHealthChanged); at least once: dedupe on alert_id',
    columns: [
      { name: 'alert_id', type: 'string', required: true, doc: 'stable id of the change' },
      asset,
      site,
      model,
      ts,
      seq,
      { name: 'scope', type: 'string', doc: 'asset | component' },
      { name: 'component', type: 'string', doc: 'component, for scope = component' },
      { name: 'from_state', type: 'string', doc: 'health state before' },
      { name: 'to_state', type: 'string', doc: 'health state after' },
      { name: 'severity', type: 'string', doc: 'info | warning | critical' },
      { name: 'risk', type: 'double', doc: 'risk 0..1 at the change' },
      { name: 'anomaly', type: 'double', doc: 'anomaly score at the change' },
      { name: 'failure_probability', type: 'double', doc: 'failure probability at the change' },
      { name: 'rul', type: 'double', doc: 'remaining useful life' },
      { name: 'rul_unit', type: 'string', doc: 'hours | cycles' },
      { name: 'top_contributors', type: 'string', doc: 'JSON array of {sensor, share}' },
      { name: 'estimated_cost_avoided_usd', type: 'double', doc: 'estimated downtime cost avoided' },
    ],
    partition: byDay,
  },
  maintenance: {
    name: 'maintenance',
    doc: 'maintenance reported by devices or crews (pdm.maintenance.v1)',
    columns: [
      asset,
      site,
      model,
      ts,
      { name: 'kind', type: 'string', required: true, doc: 'inspection | repair | replacement' },
      { name: 'component', type: 'string', doc: 'component; null = the whole asset' },
      { name: 'received_at', type: 'timestamp', doc: 'when the pipeline received the message' },
    ],
    partition: byDay,
  },
  events: {
    name: 'events',
    doc: 'device events (pdm.event.v1): error and alarm codes',
    columns: [
      asset,
      site,
      ts,
      seq,
      { name: 'code', type: 'string', required: true, doc: 'error or alarm code as the device sends it' },
      { name: 'severity', type: 'string', doc: 'severity as the device sends it' },
      { name: 'component', type: 'string', doc: 'component the event is about' },
      { name: 'message', type: 'string', doc: 'free text from the device' },
    ],
    partition: byDay,
  },
  quarantine: {
    name: 'quarantine',
    doc: 'index of quarantined records: the reason, and where the record itself is stored',
    columns: [
      { ...ts, doc: 'when the pipeline received the message' },
      { name: 'reason', type: 'string', required: true, doc: 'reason code (docs/cleaning.md)' },
      { name: 'level', type: 'string', doc: 'message | sample | reading' },
      { name: 'detail', type: 'string', doc: 'human-readable explanation' },
      { name: 'message_id', type: 'string', doc: 'source message id' },
      { name: 'topic', type: 'string', doc: 'MQTT topic' },
      { ...asset, required: false },
      site,
      seq,
      { name: 'sensor', type: 'string', doc: 'sensor, for reading-level reasons' },
      { name: 'object_uri', type: 'string', required: true, doc: 'the JSONL object holding the record (s3://… or a local path)' },
    ],
    partition: byDay,
  },
};

/** A row as Firehose receives it: column name → JSON value. */
export type HistoryRow = Record<string, string | number | null | readonly (number | null)[] | Readonly<Record<string, number>>>;

/** Epoch ms → the microseconds Firehose expects for an Iceberg timestamp. */
export const micros = (ms: number): number => Math.round(ms * 1000);

const num = (x: number | null | undefined): number | null => (x === null || x === undefined || !Number.isFinite(x) ? null : x);
const str = (x: string | undefined | null): string | null => (x === undefined || x === null ? null : x);

/**
 * Readings with lower-case keys (Iceberg and Athena fold identifiers; a map key is not an identifier,
 * but one spelling per sensor keeps queries simple). Non-finite values are left out.
 */
export function lowerReadings(readings: Readonly<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(readings)) if (Number.isFinite(v)) out[k.toLowerCase()] = v;
  return out;
}

export function telemetryRow(s: CleanSample): HistoryRow {
  return {
    asset_id: s.assetId,
    site_id: s.siteId,
    model_id: s.modelId,
    ts: micros(s.ts),
    seq: s.seq,
    readings: lowerReadings(s.readings),
    component: str(s.component),
    received_at: micros(s.receivedAt),
  };
}

export interface AssetKeys {
  readonly assetId: string;
  readonly siteId: string;
  readonly modelId: string;
}

export function featureRow(a: AssetKeys, row: FeatureRow, featureEngine: string, names: readonly string[]): HistoryRow {
  const vector: (number | null)[] = [];
  for (let i = 0; i < names.length; i++) vector.push(num(row.vector[i]));
  return {
    asset_id: a.assetId,
    site_id: a.siteId,
    model_id: a.modelId,
    ts: micros(row.ts),
    seq: row.seq,
    t: num(row.t),
    anomaly: num(row.anomaly.score),
    feature_engine: featureEngine,
    vector,
  };
}

/** Whose output a prediction row holds: the champion's (the twin decided with it) or a shadow challenger's. */
export type PredictionRole = 'champion' | 'challenger';

export function predictionRow(
  a: AssetKeys,
  p: { readonly ts: number; readonly seq: number; readonly anomaly: number; readonly prediction: Prediction | null },
  modelVersion: string | null,
  role: PredictionRole = 'champion',
): HistoryRow {
  const pr = p.prediction;
  const components: Record<string, number> = {};
  for (const [c, v] of Object.entries(pr?.componentFailure ?? {})) if (Number.isFinite(v)) components[c] = v;
  return {
    asset_id: a.assetId,
    site_id: a.siteId,
    model_id: a.modelId,
    ts: micros(p.ts),
    seq: p.seq,
    anomaly: num(p.anomaly),
    failure_probability: num(pr?.failureProbability),
    rul: num(pr?.rul),
    component_failure: components,
    scored_by: pr?.scoredBy ?? 'none',
    model_version: pr ? modelVersion : null,
    role,
  };
}

export function transitionRow(a: AssetKeys, t: TwinTransition, sampleTs: number): HistoryRow {
  return {
    asset_id: a.assetId,
    site_id: a.siteId,
    model_id: a.modelId,
    ts: micros(sampleTs),
    seq: t.seq,
    scope: t.scope,
    component: str(t.component),
    from_state: t.from,
    to_state: t.to,
  };
}

export function alertRow(d: TwinHealthChangedDetail): HistoryRow {
  return {
    alert_id: d.alertId,
    asset_id: d.assetId,
    site_id: d.siteId,
    model_id: d.assetModel,
    ts: micros(Date.parse(d.at)),
    seq: d.seq,
    scope: d.scope,
    component: str(d.component),
    from_state: d.from,
    to_state: d.to,
    severity: d.severity,
    risk: num(d.scores.risk),
    anomaly: num(d.scores.anomaly),
    failure_probability: num(d.scores.failureProbability),
    rul: num(d.scores.rul),
    rul_unit: d.scores.rulUnit,
    top_contributors: JSON.stringify(d.topContributors),
    estimated_cost_avoided_usd: num(d.estimatedCostAvoidedUsd),
  };
}

export function maintenanceRow(m: MaintenanceEvent): HistoryRow {
  return {
    asset_id: m.assetId,
    site_id: m.siteId,
    model_id: m.modelId,
    ts: micros(m.ts),
    kind: m.kind,
    component: str(m.component),
    received_at: micros(m.receivedAt),
  };
}

/** A device event as the `pdm.event.v1` contract carries it, after cleaning. */
export interface DeviceEventInput {
  readonly assetId: string;
  readonly siteId: string;
  /** Epoch ms. */
  readonly ts: number;
  readonly seq: number;
  readonly code: string;
  readonly severity: string;
  readonly component?: string;
  readonly message?: string;
}

export function eventRow(e: DeviceEventInput): HistoryRow {
  return {
    asset_id: e.assetId,
    site_id: e.siteId,
    ts: micros(e.ts),
    seq: e.seq,
    code: e.code,
    severity: e.severity,
    component: str(e.component),
    message: str(e.message),
  };
}

export function quarantineRow(q: QuarantineRecord, objectUri: string): HistoryRow {
  return {
    ts: micros(q.receivedAt),
    reason: q.reason,
    level: q.level,
    detail: q.detail,
    message_id: q.messageId,
    topic: q.topic,
    asset_id: str(q.assetId),
    site_id: str(q.siteId),
    seq: q.seq ?? null,
    sensor: str(q.sensor),
    object_uri: objectUri,
  };
}

/** A row that does not fit its table: a bug in a row builder or a caller, never bad device data. */
export class HistoryRowError extends Error {
  override readonly name: string = 'HistoryRowError';
}

/**
 * Checks a row against its table: no unknown column, required columns present, JSON types matching.
 * @throws HistoryRowError naming the table and column.
 */
export function checkRow(table: HistoryTable, row: HistoryRow): void {
  const def = TABLE_DEFS[table];
  const known = new Set(def.columns.map((c) => c.name));
  for (const k of Object.keys(row)) if (!known.has(k)) throw new HistoryRowError(`${table}: unknown column "${k}"`);
  for (const c of def.columns) {
    const v = row[c.name];
    if (v === undefined || v === null) {
      if (c.required) throw new HistoryRowError(`${table}.${c.name} is required`);
      continue;
    }
    const ok =
      c.type === 'string'
        ? typeof v === 'string'
        : c.type === 'list<double>'
          ? Array.isArray(v) && v.every((x) => x === null || (typeof x === 'number' && Number.isFinite(x)))
          : c.type === 'map<string,double>'
            ? typeof v === 'object' && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'number' && Number.isFinite(x))
            : typeof v === 'number' && Number.isFinite(v) && (c.type === 'double' || Number.isInteger(v));
    if (!ok) throw new HistoryRowError(`${table}.${c.name}: ${JSON.stringify(v).slice(0, 80)} is not a ${c.type}`);
  }
}

/** SQL type of a column in DuckDB (local Parquet) and in Athena DDL (Iceberg). */
export function sqlType(type: ColumnType, dialect: 'duckdb' | 'athena'): string {
  switch (type) {
    case 'string':
      return dialect === 'duckdb' ? 'VARCHAR' : 'string';
    case 'long':
      return 'BIGINT';
    case 'int':
      return 'INTEGER';
    case 'double':
      return 'DOUBLE';
    case 'timestamp':
      return 'TIMESTAMP';
    case 'map<string,double>':
      return dialect === 'duckdb' ? 'MAP(VARCHAR, DOUBLE)' : 'map<string,double>';
    case 'list<double>':
      return dialect === 'duckdb' ? 'DOUBLE[]' : 'array<double>';
  }
}

/**
 * Version of an asset model's predictors: the first 12 hex digits of their file hashes, in manifest
 * order. Any retrained file changes it; the same bundle deployed twice keeps it.
 */
export function modelVersion(predictorHashes: readonly string[], hash: (text: string) => string): string | null {
  if (predictorHashes.length === 0) return null;
  return hash(predictorHashes.join(',')).slice(0, 12);
}
