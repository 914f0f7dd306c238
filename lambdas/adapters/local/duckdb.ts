/**
 * DuckDB behind the telemetry-store port: what Timestream keeps in AWS, kept locally in one file (or
 * in memory). Rows are keyed by (asset, seq), and writes upsert: the pipeline delivers at least once,
 * so a retried batch overwrites its own rows instead of doubling them.
 */
import { DuckDBConnection, DuckDBInstance, type DuckDBValue, listValue } from '@duckdb/node-api';
import type { CleanSample } from '../../core/types.ts';
import type { FeaturePoint, PredictionPoint, TelemetryStore, WriteReport } from '../ports.ts';

/** One point of an asset's history, joined over telemetry and predictions. */
export interface StoredHistoryPoint {
  readonly ts: number;
  readonly seq: number;
  readonly readings: Readonly<Record<string, number>>;
  readonly anomaly: number | null;
  readonly failureProbability: number | null;
  readonly rul: number | null;
}

export interface DuckDbTelemetryStoreOptions {
  /** Database file; `:memory:` keeps nothing after close. @default ':memory:' */
  readonly path?: string;
  /** DuckDB worker threads (the machine is shared with the handlers). @default 2 */
  readonly threads?: number;
  /**
   * Buffer pool limit of a file database, which spills past it (an in-memory one would fail instead,
   * so it keeps DuckDB's own default). @default '64MB' for a file
   */
  readonly memoryLimit?: string;
}

/** Rows per INSERT statement: DuckDB binds each value as a parameter, and large statements parse slowly. */
const ROWS_PER_STATEMENT = 200;

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS telemetry (asset_id VARCHAR, site_id VARCHAR, model_id VARCHAR, ts BIGINT,
     seq BIGINT, readings VARCHAR, PRIMARY KEY (asset_id, seq))`,
  // Vectors as list text (`[1.5,NULL,-2]`, cast with `vector::DOUBLE[]`) in the order of the asset
  // model's `feature_names`: a quarter of the bytes of a JSON object with names on disk and in the
  // write-ahead log, and faster to write (a DOUBLE[] column was 1.4x slower to insert than either).
  `CREATE TABLE IF NOT EXISTS feature_vectors (asset_id VARCHAR, site_id VARCHAR, model_id VARCHAR, ts BIGINT,
     seq BIGINT, anomaly DOUBLE, vector VARCHAR, PRIMARY KEY (asset_id, seq))`,
  `CREATE TABLE IF NOT EXISTS feature_names (model_id VARCHAR PRIMARY KEY, names VARCHAR[])`,
  `CREATE TABLE IF NOT EXISTS predictions (asset_id VARCHAR, site_id VARCHAR, model_id VARCHAR, ts BIGINT,
     seq BIGINT, anomaly DOUBLE, failure_probability DOUBLE, rul DOUBLE, scored_by VARCHAR,
     PRIMARY KEY (asset_id, seq))`,
];

export class DuckDbTelemetryStore implements TelemetryStore {
  // DuckDB allows one writer transaction per connection at a time; writes are queued behind this.
  private chain: Promise<unknown> = Promise.resolve();
  /** Asset models whose feature names are in `feature_names`. */
  private readonly namesWritten = new Set<string>();

  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly conn: DuckDBConnection,
  ) {}

  static async open(options: DuckDbTelemetryStoreOptions = {}): Promise<DuckDbTelemetryStore> {
    const path = options.path ?? ':memory:';
    const memoryLimit = options.memoryLimit ?? (path === ':memory:' ? undefined : '64MB');
    const instance = await DuckDBInstance.create(path, {
      threads: String(options.threads ?? 2),
      ...(memoryLimit ? { memory_limit: memoryLimit } : {}),
    });
    const conn = await instance.connect();
    for (const sql of SCHEMA) await conn.run(sql);
    return new DuckDbTelemetryStore(instance, conn);
  }

  writeTelemetry(samples: readonly CleanSample[]): Promise<WriteReport> {
    return this.insert(
      'telemetry',
      6,
      samples.map((s) => [s.assetId, s.siteId, s.modelId, s.ts, s.seq, JSON.stringify(s.readings)]),
    );
  }

  async writeFeatures(points: readonly FeaturePoint[]): Promise<WriteReport> {
    const newNames = new Map<string, readonly string[]>();
    for (const p of points) {
      if (p.names.length > 0 && !this.namesWritten.has(p.modelId)) newNames.set(p.modelId, p.names);
    }
    if (newNames.size > 0) {
      await this.insert('feature_names', 2, [...newNames].map(([model, names]) => [model, listValue([...names])]));
      for (const model of newNames.keys()) this.namesWritten.add(model);
    }
    return this.insert(
      'feature_vectors',
      7,
      points.map((p) => {
        // A missing (NaN) feature is NULL; rows scored without vectors store an empty list.
        const cells = p.names.map((_n, i) => {
          const x = p.row.vector[i];
          return x !== undefined && Number.isFinite(x) ? String(x) : 'NULL';
        });
        return [p.assetId, p.siteId, p.modelId, p.row.ts, p.row.seq, finite(p.row.anomaly.score), `[${cells.join(',')}]`];
      }),
    );
  }

  writePredictions(points: readonly PredictionPoint[]): Promise<WriteReport> {
    return this.insert(
      'predictions',
      9,
      points.map((p) => [
        p.assetId,
        p.siteId,
        p.modelId,
        p.ts,
        p.seq,
        finite(p.anomaly),
        finite(p.prediction?.failureProbability ?? null),
        finite(p.prediction?.rul ?? null),
        p.prediction?.scoredBy ?? 'none',
      ]),
    );
  }

  /** The newest `limit` samples of an asset, oldest first, with their scores where scored. */
  async history(assetId: string, limit: number): Promise<StoredHistoryPoint[]> {
    const reader = await this.serial(() =>
      this.conn.runAndReadAll(
        `SELECT * FROM (
           SELECT t.ts, t.seq, t.readings, p.anomaly, p.failure_probability, p.rul
           FROM telemetry t LEFT JOIN predictions p ON p.asset_id = t.asset_id AND p.seq = t.seq
           WHERE t.asset_id = ? ORDER BY t.seq DESC LIMIT ?) ORDER BY seq`,
        [assetId, Math.max(0, Math.floor(limit))],
      ),
    );
    return reader.getRowObjectsJS().map((r) => ({
      ts: Number(r.ts),
      seq: Number(r.seq),
      readings: JSON.parse(String(r.readings)) as Record<string, number>,
      anomaly: nullableNumber(r.anomaly),
      failureProbability: nullableNumber(r.failure_probability),
      rul: nullableNumber(r.rul),
    }));
  }

  /** Runs a query after the queued writes and returns its rows as plain JS values (for tools and tests). */
  async query(sql: string, params: readonly DuckDBValue[] = []): Promise<Record<string, unknown>[]> {
    const reader = await this.serial(() => this.conn.runAndReadAll(sql, [...params]));
    return reader.getRowObjectsJS();
  }

  /** Row counts per table (for summaries and tests). */
  async counts(): Promise<{ telemetry: number; features: number; predictions: number }> {
    const reader = await this.serial(() =>
      this.conn.runAndReadAll(
        `SELECT (SELECT count(*) FROM telemetry) AS telemetry, (SELECT count(*) FROM feature_vectors) AS features,
                (SELECT count(*) FROM predictions) AS predictions`,
      ),
    );
    const row = reader.getRowObjectsJS()[0] ?? {};
    return { telemetry: Number(row.telemetry ?? 0), features: Number(row.features ?? 0), predictions: Number(row.predictions ?? 0) };
  }

  async close(): Promise<void> {
    await this.chain.catch(() => undefined);
    // A file database is checkpointed on close, so a restart reads everything written.
    this.conn.closeSync();
    this.instance.closeSync();
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.chain.then(fn, fn);
    this.chain = next.catch(() => undefined);
    return next;
  }

  private insert(table: string, width: number, rows: readonly DuckDBValue[][]): Promise<WriteReport> {
    if (rows.length === 0) return Promise.resolve({ written: 0, rejected: [] });
    return this.serial(async () => {
      for (let start = 0; start < rows.length; start += ROWS_PER_STATEMENT) {
        const chunk = rows.slice(start, start + ROWS_PER_STATEMENT);
        const tuple = `(${new Array<string>(width).fill('?').join(', ')})`;
        const sql = `INSERT OR REPLACE INTO ${table} VALUES ${chunk.map(() => tuple).join(', ')}`;
        await this.conn.run(sql, chunk.flat());
      }
      return { written: rows.length, rejected: [] };
    });
  }
}

function finite(x: number | null): number | null {
  return x !== null && Number.isFinite(x) ? x : null;
}

function nullableNumber(x: unknown): number | null {
  return x === null || x === undefined ? null : Number(x);
}
