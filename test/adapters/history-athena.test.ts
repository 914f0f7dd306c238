import {
  AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AthenaHistoryQuery,
  athenaParameter,
  HistoryQueryCancelledError,
  HistoryQueryFailedError,
  HistoryQueryTimeoutError,
  HistoryScanLimitError,
} from '../../lambdas/adapters/aws/history-athena.ts';

const athena = mockClient(AthenaClient);
const sleeps: number[] = [];
const engine = (extra = {}) =>
  new AthenaHistoryQuery(new AthenaClient({ region: 'eu-west-1' }), {
    workgroup: 'pdm-dev-history',
    database: 'pdm_dev_history',
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    ...extra,
  });
const columns = [
  { Name: 'asset_id', Type: 'varchar' },
  { Name: 'n', Type: 'bigint' },
  { Name: 'risk', Type: 'double' },
  { Name: 'ts', Type: 'timestamp(6)' },
];
const row = (...v: (string | undefined)[]) => ({ Data: v.map((x) => (x === undefined ? {} : { VarCharValue: x })) });

afterEach(() => {
  athena.reset();
  sleeps.length = 0;
});

describe('AthenaHistoryQuery', () => {
  it('starts the query in the workgroup and database with quoted parameters, polls, and reads every page typed', async () => {
    // Arrange: queued, running, then succeeded; results over two pages, the header row first.
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-1' });
    athena
      .on(GetQueryExecutionCommand)
      .resolvesOnce({ QueryExecution: { Status: { State: 'QUEUED' } } })
      .resolvesOnce({ QueryExecution: { Status: { State: 'RUNNING' } } })
      .resolves({ QueryExecution: { Status: { State: 'SUCCEEDED' } } });
    athena
      .on(GetQueryResultsCommand)
      .resolvesOnce({
        ResultSet: { ResultSetMetadata: { ColumnInfo: columns }, Rows: [row('asset_id', 'n', 'risk', 'ts'), row('pump-1', '3', '0.25', '2026-01-01 06:40:00.000000')] },
        NextToken: 'page-2',
      })
      .resolves({ ResultSet: { ResultSetMetadata: { ColumnInfo: columns }, Rows: [row("o'neil", '4', undefined, undefined)] } });

    // Act
    const rows = await engine().query('SELECT … WHERE asset_id = ? AND n > ?', ["o'neil", 2]);

    // Assert
    const start = athena.commandCalls(StartQueryExecutionCommand)[0]!.args[0].input;
    expect(start).toMatchObject({
      QueryString: 'SELECT … WHERE asset_id = ? AND n > ?',
      WorkGroup: 'pdm-dev-history',
      QueryExecutionContext: { Database: 'pdm_dev_history', Catalog: 'AwsDataCatalog' },
      ExecutionParameters: ["'o''neil'", '2'],
    });
    expect(athena.commandCalls(GetQueryExecutionCommand)).toHaveLength(3);
    expect(sleeps).toEqual([200, 400]);
    expect(athena.commandCalls(GetQueryResultsCommand).map((c) => c.args[0].input.NextToken)).toEqual([undefined, 'page-2']);
    expect(rows).toEqual([
      { asset_id: 'pump-1', n: 3, risk: 0.25, ts: '2026-01-01T06:40:00.000Z' },
      { asset_id: "o'neil", n: 4, risk: null, ts: null },
    ]);
  });

  it('sends no ExecutionParameters for a query without placeholders', async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q' });
    athena.on(GetQueryExecutionCommand).resolves({ QueryExecution: { Status: { State: 'SUCCEEDED' } } });
    athena.on(GetQueryResultsCommand).resolves({ ResultSet: { ResultSetMetadata: { ColumnInfo: [] }, Rows: [] } });
    await engine().query('SELECT 1');
    expect(athena.commandCalls(StartQueryExecutionCommand)[0]!.args[0].input.ExecutionParameters).toBeUndefined();
  });

  it('throws HistoryQueryFailedError with Athena’s message for a failed query', async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-2' });
    athena.on(GetQueryExecutionCommand).resolves({
      QueryExecution: { Status: { State: 'FAILED', StateChangeReason: 'x', AthenaError: { ErrorCategory: 2, ErrorType: 1301, ErrorMessage: "TABLE_NOT_FOUND: Table 'nope' does not exist" } } },
    });
    const err = await engine().query('SELECT * FROM nope').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HistoryQueryFailedError);
    expect(err).toMatchObject({ queryExecutionId: 'q-2', errorType: 1301, message: expect.stringContaining('TABLE_NOT_FOUND') });
    expect(athena.commandCalls(GetQueryResultsCommand)).toHaveLength(0);
  });

  it('tells the scan limit apart from any other cancellation', async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-3' });
    athena.on(GetQueryExecutionCommand).resolves({
      QueryExecution: {
        Status: { State: 'CANCELLED', StateChangeReason: 'Query cancelled: bytes scanned limit was exceeded' },
        Statistics: { DataScannedInBytes: 1_073_741_999 },
      },
    });
    const err = await engine().query('SELECT * FROM telemetry').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HistoryScanLimitError);
    expect(err).toMatchObject({ bytesScanned: 1_073_741_999, message: expect.stringContaining('pdm-dev-history') });

    athena.on(GetQueryExecutionCommand).resolves({ QueryExecution: { Status: { State: 'CANCELLED', StateChangeReason: 'Cancelled by user' } } });
    await expect(engine().query('SELECT 1')).rejects.toThrow(HistoryQueryCancelledError);
  });

  it('gives up waiting after the timeout with a named error', async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-4' });
    athena.on(GetQueryExecutionCommand).resolves({ QueryExecution: { Status: { State: 'RUNNING' } } });
    await expect(engine({ timeoutMs: 1_000 }).query('SELECT 1')).rejects.toThrow(HistoryQueryTimeoutError);
    expect(sleeps.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(1_000);
  });

  it('quotes string parameters as SQL literals and refuses non-finite numbers', () => {
    expect(athenaParameter("it's")).toBe("'it''s'");
    expect(athenaParameter(2.5)).toBe('2.5');
    expect(() => athenaParameter(Number.NaN)).toThrow(RangeError);
  });
});
