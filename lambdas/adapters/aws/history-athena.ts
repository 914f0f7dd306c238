/**
 * Athena behind the history query port: StartQueryExecution in the stage's workgroup (which enforces
 * encrypted results and the bytes-scanned limit), GetQueryExecution until the query ends, then
 * GetQueryResults page by page. Values come back typed by the result's column types, the way the
 * DuckDB adapter returns them: numbers, ISO-8601 timestamps, text (maps and lists as Athena prints
 * them; the query module asks for JSON text where it needs them).
 */
import {
  type AthenaClient,
  type ColumnInfo,
  GetQueryExecutionCommand,
  type GetQueryExecutionCommandOutput,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import type { HistoryQueryEngine } from '../history.ts';
import { realSleep } from '../retry.ts';

export interface AthenaHistoryOptions {
  readonly workgroup: string;
  readonly database: string;
  /** @default 'AwsDataCatalog' */
  readonly catalog?: string;
  /** Delay between status polls, ms (doubles up to 2 s). @default 200 */
  readonly pollMs?: number;
  /** Give up waiting after this long, ms (the query keeps running in Athena). @default 120000 */
  readonly timeoutMs?: number;
  /** @default setTimeout-based sleep */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** The query failed in Athena (syntax, missing table, permissions…): the message is Athena's. */
export class HistoryQueryFailedError extends Error {
  override readonly name: string = 'HistoryQueryFailedError';
  constructor(
    readonly queryExecutionId: string,
    message: string,
    readonly errorType?: number,
  ) {
    super(message);
  }
}

/** The query was cancelled (by someone, or by Athena) before it finished. */
export class HistoryQueryCancelledError extends Error {
  override readonly name: string = 'HistoryQueryCancelledError';
  constructor(
    readonly queryExecutionId: string,
    message: string,
  ) {
    super(message);
  }
}

/** The workgroup's per-query bytes-scanned limit cancelled the query: narrow it (by `ts`) or raise the limit. */
export class HistoryScanLimitError extends Error {
  override readonly name: string = 'HistoryScanLimitError';
  constructor(
    readonly queryExecutionId: string,
    readonly bytesScanned: number | undefined,
    message: string,
  ) {
    super(message);
  }
}

/** The query did not end within `timeoutMs`. */
export class HistoryQueryTimeoutError extends Error {
  override readonly name: string = 'HistoryQueryTimeoutError';
}

/** Athena binds execution parameters as SQL literals: strings go quoted, numbers as they are. */
export function athenaParameter(v: string | number): string {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new RangeError(`query parameter ${v} is not a finite number`);
    return String(v);
  }
  return `'${v.replaceAll("'", "''")}'`;
}

const SCAN_LIMIT = /bytes scanned|data scanned|scan(ned)? limit|BytesScannedCutoff/i;

export class AthenaHistoryQuery implements HistoryQueryEngine {
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    private readonly client: AthenaClient,
    private readonly options: AthenaHistoryOptions,
  ) {
    this.sleep = options.sleep ?? realSleep;
  }

  async query(sql: string, params: readonly (string | number)[] = []): Promise<Record<string, unknown>[]> {
    const start = await this.client.send(
      new StartQueryExecutionCommand({
        QueryString: sql,
        WorkGroup: this.options.workgroup,
        QueryExecutionContext: { Database: this.options.database, Catalog: this.options.catalog ?? 'AwsDataCatalog' },
        ...(params.length > 0 ? { ExecutionParameters: params.map(athenaParameter) } : {}),
      }),
    );
    const id = start.QueryExecutionId;
    if (!id) throw new HistoryQueryFailedError('', 'Athena returned no query execution id');
    await this.wait(id);
    return this.results(id);
  }

  private async wait(id: string): Promise<void> {
    const timeout = this.options.timeoutMs ?? 120_000;
    let delay = this.options.pollMs ?? 200;
    let waited = 0;
    for (;;) {
      const out: GetQueryExecutionCommandOutput = await this.client.send(new GetQueryExecutionCommand({ QueryExecutionId: id }));
      const status = out.QueryExecution?.Status;
      const state = status?.State;
      if (state === 'SUCCEEDED') return;
      const reason = status?.AthenaError?.ErrorMessage ?? status?.StateChangeReason ?? 'no reason given';
      if (state === 'FAILED') throw new HistoryQueryFailedError(id, `query ${id} failed: ${reason}`, status?.AthenaError?.ErrorType);
      if (state === 'CANCELLED') {
        const scanned = out.QueryExecution?.Statistics?.DataScannedInBytes;
        if (SCAN_LIMIT.test(reason)) {
          throw new HistoryScanLimitError(
            id,
            scanned,
            `query ${id} was cancelled by the workgroup ${this.options.workgroup} bytes-scanned limit` +
              `${scanned !== undefined ? ` after ${scanned} bytes` : ''}: filter on ts (partition pruning) or raise the limit (${reason})`,
          );
        }
        throw new HistoryQueryCancelledError(id, `query ${id} was cancelled: ${reason}`);
      }
      if (waited >= timeout) throw new HistoryQueryTimeoutError(`query ${id} still ${state ?? 'unknown'} after ${waited} ms`);
      await this.sleep(delay);
      waited += delay;
      delay = Math.min(2_000, delay * 2);
    }
  }

  private async results(id: string): Promise<Record<string, unknown>[]> {
    const rows: Record<string, unknown>[] = [];
    let columns: ColumnInfo[] | undefined;
    let token: string | undefined;
    let first = true;
    do {
      const page = await this.client.send(
        new GetQueryResultsCommand({ QueryExecutionId: id, MaxResults: 1000, ...(token ? { NextToken: token } : {}) }),
      );
      columns ??= page.ResultSet?.ResultSetMetadata?.ColumnInfo ?? [];
      const data = page.ResultSet?.Rows ?? [];
      // The first row of a SELECT's first page repeats the column names.
      for (let i = first ? 1 : 0; i < data.length; i++) {
        const cells = data[i]?.Data ?? [];
        const row: Record<string, unknown> = {};
        columns.forEach((c, j) => {
          row[c.Name ?? `_${j}`] = typed(cells[j]?.VarCharValue, c.Type ?? 'varchar');
        });
        rows.push(row);
      }
      first = false;
      token = page.NextToken;
    } while (token);
    return rows;
  }
}

/** Athena's text value of a cell as a JS value; an absent VarCharValue is SQL NULL. */
function typed(text: string | undefined, type: string): unknown {
  if (text === undefined) return null;
  switch (type.toLowerCase()) {
    case 'tinyint':
    case 'smallint':
    case 'integer':
    case 'bigint': {
      const n = Number(text);
      return Number.isSafeInteger(n) ? n : text;
    }
    case 'double':
    case 'float':
    case 'real':
    case 'decimal':
      return Number(text);
    case 'boolean':
      return text === 'true';
    case 'timestamp':
    case 'timestamp(3)':
    case 'timestamp(6)':
      // `2026-01-01 06:40:00.000` (UTC: the tables hold timestamps without zone, written as UTC).
      return new Date(`${text.replace(' ', 'T')}Z`).toISOString();
    default:
      return text;
  }
}
