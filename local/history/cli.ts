/**
 * `pdm history query` and `pdm history export`, against a local `--data-dir` (Parquet via DuckDB) or
 * a deployed `--stage` (Athena, the user's credentials). `bin/pdm.ts` calls {@link register}.
 */
import { type Command, InvalidArgumentError } from 'commander';
import { compareShadow, formatCompare } from './compare.ts';
import { exportTraining } from './export.ts';
import { openHistory, type HistoryTarget } from './source.ts';

function time(value: string): number {
  const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value.length === 10 ? `${value}T00:00:00Z` : value);
  if (!Number.isFinite(ms)) throw new InvalidArgumentError('expected an ISO-8601 date/time (UTC if no zone) or epoch ms');
  return ms;
}

const out = (line: string) => process.stdout.write(`${line}\n`);

/** One line per row, columns separated by tabs, for a terminal. */
function formatRows(rows: readonly Record<string, unknown>[]): string[] {
  if (rows.length === 0) return ['(no rows)'];
  const cols = Object.keys(rows[0]!);
  const cell = (v: unknown) => (v === null || v === undefined ? 'NULL' : typeof v === 'object' ? JSON.stringify(v) : String(v));
  return [cols.join('\t'), ...rows.map((r) => cols.map((c) => cell(r[c])).join('\t'))];
}

interface TargetOpts {
  dataDir?: string;
  stage?: string;
  region?: string;
}

const target = (o: TargetOpts): HistoryTarget => ({
  ...(o.dataDir !== undefined ? { dataDir: o.dataDir } : {}),
  ...(o.stage !== undefined ? { stage: o.stage } : {}),
  ...(o.region !== undefined ? { region: o.region } : {}),
});

function withTarget(cmd: Command): Command {
  return cmd
    .option('--data-dir <dir>', 'local history (the --data-dir of pdm local)')
    .option('--stage <name>', 'deployed stage: Athena workgroup pdm-<stage>-history')
    .option('--region <region>', 'AWS region of the stage (default: your AWS config)');
}

export function register(program: Command): void {
  const history = program.command('history').description('query and export the history tables (docs/history.md)');

  withTarget(history.command('query').description('run one SQL query on the history tables').argument('<sql>', 'SQL (the subset DuckDB and Athena share)'))
    .option('--json', 'print {"rows": [{column: value}, …]}')
    .action(async (sql: string, opts: TargetOpts & { json?: boolean }, cmd: Command) => {
      try {
        const h = await openHistory(target(opts));
        try {
          const rows = await h.engine.query(sql);
          if (opts.json) out(JSON.stringify({ rows }));
          else for (const line of formatRows(rows)) out(line);
        } finally {
          await h.close();
        }
      } catch (e) {
        const err = e as Error;
        cmd.error(`pdm history query: ${err.name}: ${err.message}`, { exitCode: 2 });
      }
    });

  withTarget(
    history
      .command('export')
      .description("training CSV for SageMaker's built-in XGBoost: label first, no header, the manifest's feature order"),
  )
    .requiredOption('--asset-model <id>', 'asset model, e.g. centrifugal-pump')
    .option('--from <time>', 'first sample time, inclusive (default: the beginning)', time)
    .option('--to <time>', 'last sample time, exclusive (default: no end)', time)
    .requiredOption('--out <file.csv>', 'where to write the CSV')
    .option('--predictor <name>', 'failure predictor of the bundle whose features and horizon to use', 'failure')
    .option('--bundle <dir>', 'model bundle folder (default: layers/model)')
    .option('--json', 'print the summary as JSON')
    .action(
      async (
        opts: TargetOpts & { assetModel: string; from?: number; to?: number; out: string; predictor: string; bundle?: string; json?: boolean },
        cmd: Command,
      ) => {
        try {
          const h = await openHistory(target(opts));
          try {
            const s = await exportTraining(h.engine, h.dialect, {
              assetModel: opts.assetModel,
              fromMs: opts.from ?? 0,
              toMs: opts.to ?? Date.UTC(9999, 0, 1),
              out: opts.out,
              predictor: opts.predictor,
              ...(opts.bundle ? { bundleDir: opts.bundle } : {}),
            });
            if (opts.json) out(JSON.stringify(s));
            else {
              out(`wrote ${s.rows} rows × (1 label + ${s.features} features) to ${s.out}: ${s.positives} positive`);
              out(`  left out: ${s.censored} rows whose ${s.horizonMs / 3_600_000} h horizon passes the end of the history, ${s.withoutVector} rows without a feature vector`);
            }
          } finally {
            await h.close();
          }
        } catch (e) {
          const err = e as Error;
          cmd.error(`pdm history export: ${err.name}: ${err.message}`, { exitCode: 2 });
        }
      },
    );
}

/**
 * `pdm models compare`: champion against shadow challenger from the history. Registered on the
 * `models` command (ml/cli/models.ts) by bin/pdm.ts, here beside the other history readers.
 */
export function registerModelsCompare(program: Command): void {
  const models = program.commands.find((c) => c.name() === 'models');
  if (!models) throw new Error('register the models command first');
  withTarget(
    models
      .command('compare')
      .description('the shadow challengers against their champions on the same rows, from the history (docs/models.md "Shadow challengers")'),
  )
    .option('--since <time>', 'rows from this time on (default: all)', time)
    .option('--asset-model <id...>', 'only these asset models (default: every one with challenger rows)')
    .option('--bundle <dir>', "bundle whose champion thresholds and horizons apply (default: layers/model)")
    .option('--registry <dir>', 'registry that names the versions (default: models/)')
    .option('--json', 'print the report as JSON')
    .action(async (opts: TargetOpts & { since?: number; assetModel?: string[]; bundle?: string; registry?: string; json?: boolean }, cmd: Command) => {
      try {
        const h = await openHistory(target(opts));
        try {
          const report = await compareShadow(h.engine, h.dialect, {
            ...(opts.since !== undefined ? { sinceMs: opts.since } : {}),
            ...(opts.assetModel ? { assetModels: opts.assetModel } : {}),
            ...(opts.bundle ? { bundleDir: opts.bundle } : {}),
            ...(opts.registry ? { registryDir: opts.registry } : {}),
          });
          if (opts.json) out(JSON.stringify(report, null, 2));
          else for (const line of formatCompare(report)) out(line);
        } finally {
          await h.close();
        }
      } catch (e) {
        const err = e as Error;
        cmd.error(`pdm models compare: ${err.name}: ${err.message}`, { exitCode: 2 });
      }
    });
}
