/**
 * Names of a stage's history resources, derived from the stage name alone, so the stack that creates
 * them, the functions that write and the CLI that queries (`--stage S`) agree without a lookup. Glue
 * and Firehose's Iceberg destination accept lower case, digits and `_` only (no `-`:
 * https://docs.aws.amazon.com/firehose/latest/dev/apache-iceberg-considerations.html).
 */
import type { HistoryTable } from './tables.ts';

const glueSafe = (stage: string) => stage.toLowerCase().replace(/[^a-z0-9_]/g, '_');

export const historyNames = (stage: string) => ({
  /** Glue database of the Iceberg tables. */
  database: `pdm_${glueSafe(stage)}_history`,
  /** Athena workgroup (encrypted results, bytes-scanned limit). */
  workgroup: `pdm-${stage}-history`,
  /** Firehose Direct PUT stream writing one table. */
  stream: (table: HistoryTable) => `pdm-${stage}-history-${table}`,
  /** Read-only managed policy for `pdm dashboard --stage` and `pdm history --stage`. */
  readerPolicy: `pdm-${stage}-history-reader`,
});
