/**
 * Monthly cost of the history store (docs/history.md): Firehose ingest into Iceberg, S3 storage of the
 * Parquet tables, Athena scans and the Glue catalog. Its buckets and streams are encrypted with the stage's
 * data key, priced once under `kms` in model.ts. Kept apart from model.ts so the pipeline model stays
 * readable; model.ts adds this line to its total.
 *
 * Prices (us-east-1, read 2026-12-02):
 * - Firehose to Apache Iceberg tables: per GB ingested, no 5 KB record rounding; $0.075/GB for Direct
 *   PUT is derived from AWS's game-analytics guidance estimate (../shared/notes/history-store.md §4) [I].
 * - S3 Standard storage $0.023/GB-month; PUT $0.005 per 1,000 (https://aws.amazon.com/s3/pricing/).
 * - Athena $5 per TB scanned, 10 MB minimum per query (https://aws.amazon.com/athena/pricing/).
 * - Glue Data Catalog: first million objects and requests a month free (https://aws.amazon.com/glue/pricing/).
 */
export const HISTORY_PRICES = {
  firehoseIcebergPerGb: 0.075,
  s3StorageGbMonth: 0.023,
  s3PutPer1000: 0.005,
  athenaPerTbScanned: 5,
  athenaMinBytesPerQuery: 10 * 1024 ** 2,
} as const;

export interface HistoryCostInputs {
  /** Clean samples a month (each becomes a telemetry, a features and a predictions row). */
  readonly samplesPerMonth: number;
  /** JSON bytes of one sample's three rows (telemetry, features, predictions), fleet-mix weighted. */
  readonly rowBytesPerSample: number;
  /** Months of history kept (retention); storage is the month-average of a full retention window. @default 12 */
  readonly retentionMonths?: number;
  /** Parquet (zstd) bytes per JSON byte. @default 0.2 (assumed; measure with `du` on a local --data-dir) */
  readonly parquetRatio?: number;
  /** Athena queries a month (dashboard history views, exports, ad hoc). @default 3000 */
  readonly queriesPerMonth?: number;
  /** Bytes one query scans (one asset-day bucket and the tables' metadata). @default Athena's 10 MB minimum */
  readonly bytesPerQuery?: number;
  /** Firehose buffer flushes a month per stream (8 streams, 300 s buffers). @default 8 × 8,760 */
  readonly filesPerMonth?: number;
}

export interface HistoryCost {
  readonly usd: number;
  readonly usage: {
    readonly ingestGb: number;
    readonly storedGb: number;
    readonly queries: number;
    readonly scannedTb: number;
  };
  readonly parts: { readonly firehose: number; readonly s3: number; readonly athena: number };
}

const GB = 1024 ** 3;
const TB = 1024 ** 4;

/** @throws RangeError on a negative or non-finite input. */
export function historyCost(inputs: HistoryCostInputs, prices = HISTORY_PRICES): HistoryCost {
  const retention = inputs.retentionMonths ?? 12;
  const ratio = inputs.parquetRatio ?? 0.2;
  const queries = inputs.queriesPerMonth ?? 3_000;
  const perQuery = Math.max(prices.athenaMinBytesPerQuery, inputs.bytesPerQuery ?? 0);
  const files = inputs.filesPerMonth ?? 8 * 8_760;
  for (const [k, v] of Object.entries({ ...inputs, retention, ratio, queries, perQuery, files })) {
    if (typeof v === 'number' && !(Number.isFinite(v) && v >= 0)) throw new RangeError(`history cost: ${k} must be a finite number ≥ 0, got ${v}`);
  }
  const ingestGb = (inputs.samplesPerMonth * inputs.rowBytesPerSample) / GB;
  // A table that keeps `retention` months holds, on average over a year of steady state, all of them.
  const storedGb = ingestGb * ratio * retention;
  const scannedTb = (queries * perQuery) / TB;
  const firehose = ingestGb * prices.firehoseIcebergPerGb;
  const s3 = storedGb * prices.s3StorageGbMonth + (files / 1000) * prices.s3PutPer1000;
  const athena = scannedTb * prices.athenaPerTbScanned;
  return {
    usd: firehose + s3 + athena,
    usage: { ingestGb, storedGb, queries, scannedTb },
    parts: { firehose, s3, athena },
  };
}
