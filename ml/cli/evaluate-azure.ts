/** `pdm evaluate azure`: time-split failure prediction on the Azure PdM slice, through the product's features. */
import type { Command } from 'commander';
import { AZURE_DEFAULT_DIR, evaluateAzure, formatAzureReport } from '../evaluate/azure.ts';
import { azureReport } from '../report/builders.ts';
import { writeReport } from '../report/render.ts';

/** Adds `azure` to the `evaluate` command. */
export function register(evaluate: Command): void {
  evaluate
    .command('azure')
    .description('Azure PdM slice (machines 1–20, Jan–Mar 2015): per-component 24 h failure prediction, March held out')
    .option('--data-dir <dir>', 'directory with the PdM_*.csv files', AZURE_DEFAULT_DIR)
    .option('--no-errors', 'skip the variant with PdM_errors counts (not part of the telemetry contract)')
    .option('--json', 'print one JSON object')
    .option('--report <dir>', 'also write report.md, report.html and SVG plots (per-component precision/recall) to this folder')
    .action((opts: { dataDir: string; errors: boolean; json?: boolean; report?: string }) => {
      const result = evaluateAzure({ dataDir: opts.dataDir, errors: opts.errors });
      if (opts.report) {
        const perComponent = result.product.targets.map((t) => ({
          component: t.target,
          precision: t.precision,
          recall: t.recall,
          f1: t.f1,
          ...(t.leadTime.meanLeadHours24h !== null ? { leadTimeHours: t.leadTime.meanLeadHours24h } : {}),
        }));
        const files = writeReport(opts.report, azureReport({ perComponent }));
        process.stderr.write(`report: ${files.html}\n`);
      }
      process.stdout.write(`${opts.json ? JSON.stringify(result) : formatAzureReport(result)}\n`);
    });
}
