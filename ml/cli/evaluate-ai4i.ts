/** `pdm evaluate ai4i`: the AI4I 2020 benchmark, ours against xgboost on the same rows. */
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { AI4I_DEFAULT_FILE, evaluateAi4i, formatAi4iReport } from '../evaluate/ai4i.ts';
import { ai4iReport } from '../report/builders.ts';
import { writeReport } from '../report/render.ts';
import { progressBar } from './progress.ts';

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

/** Adds `ai4i` to the `evaluate` command. */
export function register(evaluate: Command): void {
  evaluate
    .command('ai4i')
    .description('AI4I 2020 machine-failure benchmark: our GBDT vs xgboost 1.7.4 hist, same split and features')
    .option('--file <path>', 'ai4i2020.csv', AI4I_DEFAULT_FILE)
    .option('--seed <n>', 'first split seed', positiveInt, 1)
    .option('--seeds <n>', 'split seeds to average (seed, seed+1, …)', positiveInt, 5)
    .option('--no-derived', 'only Type and the 5 numeric columns (no ΔT, power, wear × torque)')
    .option('--no-xgboost', 'skip the xgboost baseline (it needs /usr/bin/python3 with python3-xgboost)')
    .option('--json', 'print one JSON object')
    .option('--report <dir>', 'also write report.md, report.html and SVG plots (PR and ROC curves) to this folder')
    .action(
      (opts: {
        file: string;
        seed: number;
        seeds: number;
        derived: boolean;
        xgboost: boolean;
        json?: boolean;
        report?: string;
      }) => {
        const progress = progressBar({ label: 'evaluate ai4i', total: opts.seeds + (opts.xgboost ? 1 : 0), json: opts.json === true });
        let evaluated;
        try {
          evaluated = evaluateAi4i({
            file: opts.file,
            seed: opts.seed,
            seeds: opts.seeds,
            derived: opts.derived,
            xgboost: opts.xgboost,
            keepTestScores: opts.report !== undefined,
            onProgress: (done, _total, step) => progress.update(done, step),
          });
        } finally {
          progress.stop();
        }
        const { testPredictions, ...result } = evaluated;
        if (opts.report && testPredictions) {
          const series = [{ name: 'ours', scores: testPredictions.ours, labels: testPredictions.labels }];
          const files = writeReport(opts.report, ai4iReport({ ...result, series }));
          process.stderr.write(`report: ${files.html}\n`);
        }
        process.stdout.write(`${opts.json ? JSON.stringify(result) : formatAi4iReport(result)}\n`);
      },
    );
}
