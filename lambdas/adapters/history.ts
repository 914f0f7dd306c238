/**
 * The history port (append-only tables: Firehose → Iceberg in AWS, Parquet locally) and the adapters
 * that put the pipeline's existing ports onto it:
 *   - {@link HistoryTelemetryStore}: the telemetry-store port (telemetry, features, predictions),
 *   - {@link IndexedQuarantineSink}: a quarantine sink that also indexes what it stored,
 *   - {@link TeeTelemetryStore}: two telemetry stores at once (history plus the optional Timestream).
 * Writes are at least once: a Lambda retry writes its rows again, so queries dedupe where it matters
 * (docs/history.md).
 */
import { createHash } from 'node:crypto';
import type { TwinHealthChangedDetail } from '../core/alerts/policy.ts';
import type { QuarantineRecord } from '../core/cleaning/reasons.ts';
import {
  alertRow,
  type AssetKeys,
  type DeviceEventInput,
  eventRow,
  featureRow,
  type HistoryRow,
  type HistoryTable,
  maintenanceRow,
  modelVersion,
  predictionRow,
  quarantineRow,
  telemetryRow,
  transitionRow,
} from '../core/history/tables.ts';
import type { ModelBundle } from '../core/model/bundle.ts';
import type { TwinTransition } from '../core/twin/twin.ts';
import type { CleanSample, MaintenanceEvent } from '../core/types.ts';
import type {
  FeaturePoint,
  PredictionPoint,
  QuarantineReport,
  QuarantineSink,
  TelemetryStore,
  WriteReport,
} from './ports.ts';

export interface HistoryPutReport {
  readonly written: number;
}

/** Rows the history store still refused after its retries: the caller fails the source records. */
export class HistoryDeliveryError extends Error {
  override readonly name: string = 'HistoryDeliveryError';
  constructor(
    readonly table: HistoryTable,
    readonly failed: number,
    readonly total: number,
    readonly errorCodes: Readonly<Record<string, number>>,
  ) {
    super(`history ${table}: ${failed} of ${total} rows not delivered after retries (${JSON.stringify(errorCodes)})`);
  }
}

export interface HistorySink {
  /**
   * Appends rows to a table. Resolves when every row is accepted.
   * @throws HistoryDeliveryError when rows are still refused after bounded retries (never dropped).
   */
  put(table: HistoryTable, rows: readonly HistoryRow[]): Promise<HistoryPutReport>;
}

/** Reads the history with SQL (DuckDB locally, Athena in AWS), in the subset both run. */
export interface HistoryQueryEngine {
  /** `?` placeholders bound to `params` in order. Values come back as JS numbers, strings or null. */
  query(sql: string, params?: readonly (string | number)[]): Promise<Record<string, unknown>[]>;
}

const sha = (text: string) => createHash('sha256').update(text).digest('hex');

/** Version per asset model of a bundle (see `modelVersion`). */
export function bundleModelVersions(bundle: ModelBundle): ReadonlyMap<string, string | null> {
  const out = new Map<string, string | null>();
  for (const [id, entry] of Object.entries(bundle.manifest.models)) {
    out.set(id, modelVersion(entry.predictors.map((p) => p.sha256), sha));
  }
  return out;
}

/**
 * Version per asset model of the bundle's shadow challengers, computed as the champions' is: the same
 * model files give the same `model_version` whether they shadow or decide.
 */
export function challengerModelVersions(bundle: ModelBundle): ReadonlyMap<string, string | null> {
  const out = new Map<string, string | null>();
  for (const [id, entry] of Object.entries(bundle.manifest.challengers ?? {})) {
    out.set(id, modelVersion(entry.predictors.map((p) => p.sha256), sha));
  }
  return out;
}

export interface HistoryTelemetryStoreOptions {
  /** Model version per asset model id, written with each prediction. @default none (null) */
  readonly modelVersions?: ReadonlyMap<string, string | null>;
  /** Feature engine version written with each vector. @default '' */
  readonly featureEngine?: string;
  /** Model version per asset model of the shadow challengers. @default none (null) */
  readonly challengerVersions?: ReadonlyMap<string, string | null>;
}

/** The telemetry-store port on the history tables; plus the tables that port does not have. */
export class HistoryTelemetryStore implements TelemetryStore {
  constructor(
    readonly sink: HistorySink,
    private readonly options: HistoryTelemetryStoreOptions = {},
  ) {}

  async writeTelemetry(samples: readonly CleanSample[]): Promise<WriteReport> {
    return this.put('telemetry', samples.map(telemetryRow));
  }

  async writeFeatures(points: readonly FeaturePoint[]): Promise<WriteReport> {
    const engine = this.options.featureEngine ?? '';
    return this.put('features', points.map((p) => featureRow(p, p.row, engine, p.names)));
  }

  async writePredictions(points: readonly PredictionPoint[]): Promise<WriteReport> {
    return this.put(
      'predictions',
      points.map((p) => predictionRow(p, p, this.options.modelVersions?.get(p.modelId) ?? null)),
    );
  }

  /**
   * Shadow challengers' outputs (docs/models.md "Shadow challengers"): the `predictions` table with
   * `role = 'challenger'` and the challenger's version. Not on the telemetry-store port, so no live
   * store (Timestream, the local dashboard's DuckDB) ever holds them.
   */
  async writeChallengerPredictions(points: readonly PredictionPoint[]): Promise<WriteReport> {
    return this.put(
      'predictions',
      points.map((p) => predictionRow(p, p, this.options.challengerVersions?.get(p.modelId) ?? null, 'challenger')),
    );
  }

  writeTransitions(items: readonly { readonly asset: AssetKeys; readonly transition: TwinTransition; readonly ts: number }[]) {
    return this.put('transitions', items.map((i) => transitionRow(i.asset, i.transition, i.ts)));
  }

  writeAlerts(alerts: readonly TwinHealthChangedDetail[]) {
    return this.put('alerts', alerts.map(alertRow));
  }

  writeMaintenance(events: readonly MaintenanceEvent[]) {
    return this.put('maintenance', events.map(maintenanceRow));
  }

  /** Device events (`pdm.event.v1`), for the handler that receives them. */
  writeEvents(events: readonly DeviceEventInput[]) {
    return this.put('events', events.map(eventRow));
  }

  private async put(table: HistoryTable, rows: HistoryRow[]): Promise<WriteReport> {
    if (rows.length === 0) return { written: 0, rejected: [] };
    const res = await this.sink.put(table, rows);
    return { written: res.written, rejected: [] };
  }
}

/** Writes to both stores; a failure of either fails the write (both are retried with the records). */
export class TeeTelemetryStore implements TelemetryStore {
  constructor(
    private readonly a: TelemetryStore,
    private readonly b: TelemetryStore,
  ) {}

  writeTelemetry(samples: readonly CleanSample[]) {
    return this.both((s) => s.writeTelemetry(samples));
  }
  writeFeatures(points: readonly FeaturePoint[]) {
    return this.both((s) => s.writeFeatures(points));
  }
  writePredictions(points: readonly PredictionPoint[]) {
    return this.both((s) => s.writePredictions(points));
  }

  private async both(fn: (s: TelemetryStore) => Promise<WriteReport>): Promise<WriteReport> {
    const [x, y] = await Promise.all([fn(this.a), fn(this.b)]);
    // Rejections of the first store (Timestream's data rejections) are the ones the handler counts.
    return { written: Math.min(x.written, y.written), rejected: [...x.rejected, ...y.rejected] };
  }
}

/**
 * Stores quarantined records with the inner sink, then indexes them in the `quarantine` table with a
 * pointer to the object that holds them. An index that cannot be written fails those records' messages
 * (reported like a failed object), so they are retried rather than left unindexed.
 */
export class IndexedQuarantineSink implements QuarantineSink {
  constructor(
    private readonly inner: QuarantineSink,
    private readonly sink: HistorySink,
    /** Turns an object key of the inner sink into a URI (e.g. `s3://bucket/key`). @default the key */
    private readonly uriOf: (key: string) => string = (key) => key,
  ) {}

  async put(records: readonly QuarantineRecord[], requestId: string): Promise<QuarantineReport> {
    const report = await this.inner.put(records, requestId);
    if (report.objects.length === 0) return report;
    const uriByReason = new Map(report.objects.map((o) => [o.reason, this.uriOf(o.key)]));
    const rows = records.filter((r) => uriByReason.has(r.reason)).map((r) => quarantineRow(r, uriByReason.get(r.reason)!));
    try {
      await this.sink.put('quarantine', rows);
      return report;
    } catch (err) {
      const error = `quarantine index: ${err instanceof Error ? err.message : String(err)}`;
      const indexFailed = report.objects.map((o) => ({
        reason: o.reason,
        messageIds: [...new Set(records.filter((r) => r.reason === o.reason).map((r) => r.messageId))],
        error,
      }));
      return { objects: [], failed: [...report.failed, ...indexFailed] };
    }
  }
}
