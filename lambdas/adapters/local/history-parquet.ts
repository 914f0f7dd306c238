/**
 * The history tables locally: the same tables, column names and types as the Iceberg tables in AWS,
 * as Parquet files written by DuckDB under `<dir>/<table>/part-*.parquet`, and read back with SQL
 * through views over those files (the query module's SQL runs here and on Athena).
 *
 * Rows arrive as the very JSON objects Firehose would receive (see `core/history/tables.ts`). They are
 * buffered per table and written as one Parquet file per table per flush (every `flushMs`, when a
 * table holds `flushRows` rows, and on close): Parquet files are immutable, so small flushes would
 * only make many tiny files, the same trade Firehose's buffering makes.
 */
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type DuckDBConnection, DuckDBInstance, type DuckDBValue } from '@duckdb/node-api';
import {
  checkRow,
  HISTORY_TABLES,
  type HistoryRow,
  type HistoryTable,
  sqlType,
  TABLE_DEFS,
} from '../../core/history/tables.ts';
import type { HistoryPutReport, HistoryQueryEngine, HistorySink } from '../history.ts';

export interface ParquetHistoryStoreOptions {
  /** Folder of the tables (created). */
  readonly dir: string;
  /** Rows buffered per table before a file is written. @default 20000 */
  readonly flushRows?: number;
  /** Interval of the background flush, ms; 0 = only on size and close. @default 10000 */
  readonly flushMs?: number;
  /** DuckDB worker threads. @default 1 */
  readonly threads?: number;
}

/** A history query DuckDB refused (syntax, unknown column…): the message is DuckDB's. */
export class HistoryQueryError extends Error {
  override readonly name: string = 'HistoryQueryError';
}

/** The history folder does not exist or holds no tables. */
export class HistoryDirError extends Error {
  override readonly name: string = 'HistoryDirError';
}

const quote = (path: string) => `'${path.replaceAll("'", "''")}'`;

/** Folder of the history tables inside a `--data-dir`. */
export const historyDirOf = (dataDir: string) => join(dataDir, 'history');

export class ParquetHistoryStore implements HistorySink, HistoryQueryEngine {
  private readonly buffers = new Map<HistoryTable, HistoryRow[]>();
  /** What each table name is defined as in the connection. */
  private readonly defined = new Map<HistoryTable, 'view' | 'table'>();
  private chain: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private files = 0;
  private readonly flushRows: number;
  private closed = false;

  private constructor(
    readonly dir: string,
    private readonly instance: DuckDBInstance,
    private readonly conn: DuckDBConnection,
    options: ParquetHistoryStoreOptions,
  ) {
    this.flushRows = options.flushRows ?? 20_000;
    const every = options.flushMs ?? 10_000;
    if (every > 0) {
      this.timer = setInterval(() => void this.flush().catch(() => undefined), every);
      this.timer.unref();
    }
  }

  static async open(options: ParquetHistoryStoreOptions): Promise<ParquetHistoryStore> {
    mkdirSync(options.dir, { recursive: true });
    for (const t of HISTORY_TABLES) mkdirSync(join(options.dir, t), { recursive: true });
    const instance = await DuckDBInstance.create(':memory:', { threads: String(options.threads ?? 1) });
    const conn = await instance.connect();
    return new ParquetHistoryStore(options.dir, instance, conn, options);
  }

  /** Opens an existing history folder for reading only (`pdm history`). */
  static async openForRead(dir: string): Promise<ParquetHistoryStore> {
    if (!existsSync(dir) || !HISTORY_TABLES.some((t) => existsSync(join(dir, t)))) {
      throw new HistoryDirError(`${dir} holds no history tables (run \`pdm local --data-dir\` first)`);
    }
    const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
    const conn = await instance.connect();
    return new ParquetHistoryStore(dir, instance, conn, { dir, flushMs: 0 });
  }

  async put(table: HistoryTable, rows: readonly HistoryRow[]): Promise<HistoryPutReport> {
    if (this.closed) throw new HistoryDirError(`history store ${this.dir} is closed`);
    for (const r of rows) checkRow(table, r);
    let buf = this.buffers.get(table);
    if (!buf) this.buffers.set(table, (buf = []));
    buf.push(...rows);
    if (buf.length >= this.flushRows) await this.flushTable(table);
    return { written: rows.length };
  }

  /** Writes every buffered row to Parquet. */
  async flush(): Promise<void> {
    for (const t of HISTORY_TABLES) await this.flushTable(t);
  }

  /** Rows per table, flushed and buffered (for summaries and tests). */
  async counts(): Promise<Record<HistoryTable, number>> {
    await this.flush();
    const out = {} as Record<HistoryTable, number>;
    for (const t of HISTORY_TABLES) {
      const rows = await this.query(`SELECT count(*) AS n FROM ${t}`);
      out[t] = Number(rows[0]?.n ?? 0);
    }
    return out;
  }

  async query(sql: string, params: readonly (string | number)[] = []): Promise<Record<string, unknown>[]> {
    return this.serial(async () => {
      try {
        await this.defineViews();
        const reader = await this.conn.runAndReadAll(sql, [...params] as DuckDBValue[]);
        return reader.getRowObjectsJS().map(plain);
      } catch (err) {
        throw new HistoryQueryError(err instanceof Error ? err.message : String(err));
      }
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    if (this.timer) clearInterval(this.timer);
    await this.flush();
    this.closed = true;
    await this.chain.catch(() => undefined);
    this.conn.closeSync();
    this.instance.closeSync();
  }

  private flushTable(table: HistoryTable): Promise<void> {
    return this.serial(async () => {
      const rows = this.buffers.get(table);
      if (!rows || rows.length === 0) return;
      this.buffers.set(table, []);
      const def = TABLE_DEFS[table];
      const staging = join(this.dir, table, `.staging-${process.pid}-${this.files}.jsonl`);
      const part = join(this.dir, table, `part-${Date.now()}-${process.pid}-${this.files++}.parquet`);
      writeFileSync(staging, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
      try {
        // Timestamps travel as epoch microseconds (Firehose's form) and become TIMESTAMP here.
        const columns = def.columns
          .map((c) => `${c.name}: '${c.type === 'timestamp' ? 'BIGINT' : sqlType(c.type, 'duckdb')}'`)
          .join(', ');
        const select = def.columns
          .map((c) => (c.type === 'timestamp' ? `make_timestamp(${c.name}) AS ${c.name}` : c.name))
          .join(', ');
        await this.conn.run(
          `COPY (SELECT ${select} FROM read_json(${quote(staging)}, format = 'newline_delimited', columns = {${columns}}))
           TO ${quote(part)} (FORMAT PARQUET, COMPRESSION ZSTD)`,
        );
      } catch (err) {
        // Put the rows back: they are written with the next flush instead of being lost.
        this.buffers.set(table, [...rows, ...(this.buffers.get(table) ?? [])]);
        throw err;
      } finally {
        rmSync(staging, { force: true });
      }
    });
  }

  /**
   * Defines one view per table over its Parquet files, or an empty typed table while it has none. A
   * view's glob is expanded each time a query binds it, so new files need no redefinition.
   */
  private async defineViews(): Promise<void> {
    for (const t of HISTORY_TABLES) {
      const folder = join(this.dir, t);
      const hasFiles = existsSync(folder) && readdirSync(folder).some((f) => f.endsWith('.parquet'));
      const want = hasFiles ? 'view' : 'table';
      const have = this.defined.get(t);
      if (have === want) continue;
      if (have) await this.conn.run(`DROP ${have === 'view' ? 'VIEW' : 'TABLE'} ${t}`);
      this.defined.set(t, want);
      if (hasFiles) {
        await this.conn.run(`CREATE VIEW ${t} AS SELECT * FROM read_parquet(${quote(join(folder, '*.parquet'))}, union_by_name = true)`);
      } else {
        const cols = TABLE_DEFS[t].columns.map((c) => `${c.name} ${sqlType(c.type, 'duckdb')}`).join(', ');
        await this.conn.run(`CREATE TEMP TABLE ${t} (${cols})`);
      }
    }
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.chain.then(fn, fn);
    this.chain = next.catch(() => undefined);
    return next;
  }
}

/**
 * DuckDB's JS values as the Athena adapter returns them: numbers (BIGINT that fits), ISO-8601 strings
 * for timestamps, arrays for lists, objects for maps.
 */
function plain(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) out[k] = value(v);
  return out;
}

function value(v: unknown): unknown {
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (v instanceof Date) return v.toISOString();
  if (Array.isArray(v)) {
    // A MAP comes back as [{key, value}, …].
    if (v.length > 0 && v.every((e) => e !== null && typeof e === 'object' && 'key' in e && 'value' in e && Object.keys(e).length === 2)) {
      return Object.fromEntries(v.map((e: { key: unknown; value: unknown }) => [String(e.key), value(e.value)]));
    }
    return v.map(value);
  }
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, value(x)]));
  }
  return v;
}
