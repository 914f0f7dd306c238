/**
 * Where `pdm history` and `pdm dashboard --stage` read the history: the local Parquet tables of a
 * `--data-dir`, or a deployed stage's Athena workgroup with the user's own AWS credentials.
 */
import { AthenaClient } from '@aws-sdk/client-athena';
import { AthenaHistoryQuery } from '../../lambdas/adapters/aws/history-athena.ts';
import type { HistoryQueryEngine } from '../../lambdas/adapters/history.ts';
import { historyDirOf, ParquetHistoryStore } from '../../lambdas/adapters/local/history-parquet.ts';
import { historyNames } from '../../lambdas/core/history/names.ts';
import type { Dialect } from '../../lambdas/core/history/queries.ts';

export interface HistoryTarget {
  readonly dataDir?: string;
  readonly stage?: string;
  readonly region?: string;
}

/** Neither or both of `--data-dir` and `--stage`, or a `--region` without a stage. */
export class HistoryTargetError extends Error {
  override readonly name: string = 'HistoryTargetError';
}

export interface OpenHistory {
  readonly engine: HistoryQueryEngine;
  readonly dialect: Dialect;
  close(): Promise<void>;
}

export async function openHistory(target: HistoryTarget, athena?: AthenaClient): Promise<OpenHistory> {
  if ((target.dataDir === undefined) === (target.stage === undefined)) {
    throw new HistoryTargetError('give exactly one of --data-dir <dir> (local Parquet) or --stage <name> (deployed, Athena)');
  }
  if (target.region !== undefined && target.stage === undefined) throw new HistoryTargetError('--region goes with --stage');
  if (target.dataDir !== undefined) {
    const store = await ParquetHistoryStore.openForRead(historyDirOf(target.dataDir));
    return { engine: store, dialect: 'duckdb', close: () => store.close() };
  }
  const names = historyNames(target.stage!);
  const client = athena ?? new AthenaClient(target.region ? { region: target.region } : {});
  return {
    engine: new AthenaHistoryQuery(client, { workgroup: names.workgroup, database: names.database }),
    dialect: 'athena',
    close: async () => {
      if (!athena) client.destroy();
    },
  };
}
