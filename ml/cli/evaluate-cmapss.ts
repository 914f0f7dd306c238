/**
 * `pdm evaluate cmapss`: the C-MAPSS test protocol for the turbofan RUL model (docs/cmapss.md).
 */
import { join } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { evaluateCmapss } from '../evaluate/cmapss.ts';
import { cmapssReport } from '../report/builders.ts';
import { writeReport } from '../report/render.ts';

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

/** Adds `cmapss` to the `evaluate` parent command. Defaults are resolved against the working directory. */
export function register(evaluate: Command): void {
  const dataDir = join(process.cwd(), '..', 'shared', 'data', 'cmapss');
  evaluate
    .command('cmapss')
    .description(
      'train the turbofan RUL model on C-MAPSS training engines and score it on the test engines (last cycle, RUL capped at 125)',
    )
    .option('--train <file>', 'training trajectories', join(dataDir, 'train_FD001.txt'))
    .option('--test <file>', 'test trajectories', join(dataDir, 'test_FD001.txt'))
    .option('--rul <file>', 'true RUL per test engine', join(dataDir, 'RUL_FD001.txt'))
    .option('--seeds <n>', 'training runs (seeds 1…n)', positiveInt, 5)
    .option('--json', 'print one JSON object instead of a table')
    .option('--report <dir>', 'also write report.md, report.html and SVG plots (predicted vs true RUL) to this folder')
    .action((opts: { train: string; test: string; rul: string; seeds: number; json?: boolean; report?: string }) => {
      const out = (line: string): void => {
        process.stdout.write(`${line}\n`);
      };
      const result = evaluateCmapss({
        train: opts.train,
        test: opts.test,
        rul: opts.rul,
        seeds: opts.seeds,
        json: opts.json === true,
        log: (line) => process.stderr.write(`${line}\n`),
      });
      if (opts.report) {
        const predictions = result.predictions.map((p) => ({ unit: p.unit, true: p.trueCapped, pred: p.pred }));
        const files = writeReport(opts.report, cmapssReport({ rmse: result.rmse, nasaScore: result.nasaScore, predictions }));
        process.stderr.write(`report: ${files.html}\n`);
      }
      if (opts.json) {
        out(JSON.stringify(result));
        return;
      }
      const f = (x: number, d = 2): string => x.toFixed(d);
      out(`C-MAPSS ${result.dataset}: ${result.engines.train} training engines, ${result.engines.test} test engines`);
      out(`protocol: prediction at each test engine's last cycle; truth capped at ${result.cap}`);
      out('');
      out('seed   RMSE    NASA score   RMSE (uncapped)   validation RMSE   trees   train s');
      for (const p of result.perSeed) {
        const cells = [
          String(p.seed).padStart(4),
          f(p.rmse).padStart(6),
          f(p.nasaScore, 1).padStart(11),
          f(p.rmseUncapped).padStart(16),
          f(p.validRmse).padStart(16),
          String(p.rounds).padStart(6),
          f(p.trainingSeconds, 1).padStart(8),
        ];
        out(cells.join('  '));
      }
      out('');
      out(`RMSE        ${f(result.rmse)} ± ${f(result.rmseSd)} (mean ± sd over ${result.perSeed.length} seeds)`);
      out(`NASA score  ${f(result.nasaScore, 1)} ± ${f(result.nasaScoreSd, 1)}`);
      out(`uncapped    RMSE ${f(result.rmseUncapped)}, NASA score ${f(result.nasaScoreUncapped, 1)}`);
      out(
        `interval    ${Math.round(result.intervalLevel * 100)} % split conformal: coverage ${f(result.intervalCoverage)}, ` +
          `median width ${f(result.intervalMedianWidth, 1)} cycles`,
      );
    });
}
