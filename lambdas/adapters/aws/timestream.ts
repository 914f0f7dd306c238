/**
 * Timestream for LiveAnalytics writer: one multi-measure record per sample (telemetry), per feature
 * row (features) and per prediction (predictions), with dimensions assetId/siteId/assetModel.
 */
import {
  type _Record,
  type Dimension,
  type MeasureValue,
  type TimestreamWriteClient,
  WriteRecordsCommand,
} from '@aws-sdk/client-timestream-write';
import type { CleanSample } from '../../core/types.ts';
import type {
  AssetDimensions,
  FeaturePoint,
  PredictionPoint,
  RejectedPoint,
  TelemetryStore,
  WriteReport,
} from '../ports.ts';
import { type BackoffOptions, backoff, errorMessage, isRetryable } from '../retry.ts';

/** WriteRecords takes at most 100 records per call. */
export const WRITE_RECORDS_MAX = 100;
/** A multi-measure record holds at most 256 measures. */
export const MAX_MEASURES = 256;

export interface TimestreamTables {
  readonly database: string;
  readonly telemetryTable?: string;
  readonly featuresTable?: string;
  readonly predictionsTable?: string;
}

/** A table this function was not configured with was asked for (a wiring bug, not bad data). */
export class TimestreamTableMissingError extends Error {
  override readonly name: string = 'TimestreamTableMissingError';
}

interface Keyed {
  readonly record: _Record;
  readonly assetId: string;
  readonly seq: number;
}

export class TimestreamTelemetryStore implements TelemetryStore {
  private readonly retry;

  constructor(
    private readonly client: TimestreamWriteClient,
    private readonly tables: TimestreamTables,
    retry: BackoffOptions = {},
  ) {
    this.retry = backoff(retry);
  }

  writeTelemetry(samples: readonly CleanSample[]): Promise<WriteReport> {
    return this.write(
      this.table('telemetryTable'),
      samples.map((s) => ({
        assetId: s.assetId,
        seq: s.seq,
        record: record(s, 'telemetry', s.ts, [
          ...measures(s.readings),
          { Name: 'seq', Value: String(s.seq), Type: 'BIGINT' },
        ]),
      })),
    );
  }

  writeFeatures(points: readonly FeaturePoint[]): Promise<WriteReport> {
    return this.write(
      this.table('featuresTable'),
      points.map((p) => {
        const values: MeasureValue[] = [
          { Name: 'seq', Value: String(p.row.seq), Type: 'BIGINT' },
          { Name: 'anomaly', Value: String(p.row.anomaly.score), Type: 'DOUBLE' },
        ];
        const v = p.row.vector;
        for (let i = 0; i < v.length && values.length < MAX_MEASURES; i++) {
          const name = p.names[i];
          const x = v[i]!;
          // A NaN feature (window not filled yet) is absent, as Timestream has no NaN.
          if (name !== undefined && Number.isFinite(x)) values.push({ Name: name, Value: String(x), Type: 'DOUBLE' });
        }
        return { assetId: p.assetId, seq: p.row.seq, record: record(p, 'features', p.row.ts, values) };
      }),
    );
  }

  writePredictions(points: readonly PredictionPoint[]): Promise<WriteReport> {
    return this.write(
      this.table('predictionsTable'),
      points.map((p) => {
        const values: MeasureValue[] = [
          { Name: 'seq', Value: String(p.seq), Type: 'BIGINT' },
          { Name: 'anomaly', Value: String(p.anomaly), Type: 'DOUBLE' },
        ];
        const pr = p.prediction;
        if (pr && pr.failureProbability !== null) {
          values.push({ Name: 'failure_probability', Value: String(pr.failureProbability), Type: 'DOUBLE' });
        }
        if (pr && pr.rul !== null) values.push({ Name: 'rul', Value: String(pr.rul), Type: 'DOUBLE' });
        for (const [c, v] of Object.entries(pr?.componentFailure ?? {})) {
          values.push({ Name: `failure_${c}`, Value: String(v), Type: 'DOUBLE' });
        }
        values.push({ Name: 'scored_by', Value: pr?.scoredBy ?? 'none', Type: 'VARCHAR' });
        return { assetId: p.assetId, seq: p.seq, record: record(p, 'predictions', p.ts, values) };
      }),
    );
  }

  private table(which: 'telemetryTable' | 'featuresTable' | 'predictionsTable'): string {
    const name = this.tables[which];
    if (!name) throw new TimestreamTableMissingError(`Timestream ${which} is not configured`);
    return name;
  }

  private async write(table: string, items: readonly Keyed[]): Promise<WriteReport> {
    const rejected: RejectedPoint[] = [];
    let written = 0;
    for (let start = 0; start < items.length; start += WRITE_RECORDS_MAX) {
      const batch = items.slice(start, start + WRITE_RECORDS_MAX);
      const bad = await this.writeBatch(table, batch);
      for (const r of bad) {
        const item = batch[r.index];
        rejected.push({
          index: start + r.index,
          assetId: item?.assetId ?? '?',
          seq: item?.seq ?? -1,
          reason: r.reason,
        });
      }
      written += batch.length - bad.length;
    }
    return { written, rejected };
  }

  /**
   * One WriteRecords call with throttling retried. Rejected records are reported, not retried: the
   * other records of the call were written (Timestream commits them), and a rejection is about the
   * data (duplicate with a different value, outside the retention window, bad measure).
   */
  private async writeBatch(table: string, batch: readonly Keyed[]): Promise<{ index: number; reason: string }[]> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.client.send(
          new WriteRecordsCommand({
            DatabaseName: this.tables.database,
            TableName: table,
            Records: batch.map((b) => b.record),
          }),
        );
        return [];
      } catch (err) {
        if ((err as Error).name === 'RejectedRecordsException') {
          const list = (err as { RejectedRecords?: { RecordIndex?: number; Reason?: string }[] }).RejectedRecords ?? [];
          return list.map((r) => ({ index: r.RecordIndex ?? -1, reason: r.Reason ?? errorMessage(err) }));
        }
        if (!isRetryable(err) || attempt >= this.retry.attempts) throw err;
        await this.retry.pause(attempt);
      }
    }
  }
}

function dimensions(d: AssetDimensions): Dimension[] {
  return [
    { Name: 'assetId', Value: d.assetId },
    { Name: 'siteId', Value: d.siteId },
    { Name: 'assetModel', Value: d.modelId },
  ];
}

function record(d: AssetDimensions, measureName: string, ts: number, values: MeasureValue[]): _Record {
  return {
    Dimensions: dimensions(d),
    MeasureName: measureName,
    MeasureValueType: 'MULTI',
    MeasureValues: values,
    Time: String(ts),
    TimeUnit: 'MILLISECONDS',
  };
}

function measures(readings: Readonly<Record<string, number>>): MeasureValue[] {
  const out: MeasureValue[] = [];
  for (const name in readings) {
    if (out.length >= MAX_MEASURES - 1) break;
    out.push({ Name: name, Value: String(readings[name]), Type: 'DOUBLE' });
  }
  return out;
}
