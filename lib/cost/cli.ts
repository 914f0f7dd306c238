/** `pdm cost`: the monthly bill of the deployed stack for a fleet (docs/cost.md). */
import { type Command, InvalidArgumentError, Option } from 'commander';
import { type CostInputs, type CostResult, estimateCost } from './model.ts';

function positive(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number');
  return n;
}
function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected an integer ≥ 0');
  return n;
}
function positiveInt(value: string): number {
  const n = positive(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

/** Renders the per-service table. */
export function formatCost(r: CostResult): string {
  const rows = Object.entries(r.byService)
    .filter(([, l]) => l.usd > 0)
    .sort((a, b) => b[1].usd - a[1].usd)
    .map(([s, l]) => `${s.padEnd(12)} ${`$${l.usd.toFixed(2)}`.padStart(11)}`);
  const i = r.inputs;
  return [
    `${i.assets} assets, a sample every ${i.intervalSeconds} s, ${i.samplesPerMessage} per message; ${i.basicIngest ? 'Basic Ingest' : 'broker'}; streams ${i.streamMode} (${i.shards} shards), scoring ${i.scoring}, Timestream ${i.timestream ? 'on' : 'off'}`,
    `batches: clean ${i.batchSize} records / ${i.batchingWindowSeconds} s, features ${i.featuresBatchSize} records / ${i.featuresBatchingWindowSeconds} s`,
    ...rows,
    `${'total'.padEnd(12)} ${`$${r.totalUsdPerMonth.toFixed(2)}`.padStart(11)} per month`,
    `${'floor'.padEnd(12)} ${`$${r.floorUsdPerMonth.toFixed(2)}`.padStart(11)}  ratio ${r.ratioToFloor}× (goal ≤ 2.0×: ${r.ratioToFloor <= 2 ? 'met' : 'not met'})`,
    `${'paid floor'.padEnd(12)} ${`$${r.paidFloorUsdPerMonth.toFixed(2)}`.padStart(11)}  ratio ${r.ratioToPaidFloor}×`,
    i.streamMode === 'provisioned'
      ? `stack config for this fleet: "streams": { "mode": "provisioned", "rawShards": ${i.rawShards}, "cleanShards": ${i.cleanShards} }`
      : 'stack config for this fleet: "streams": { "mode": "on-demand" }',
    `prices: ${r.region}, read ${r.pricesDate}`,
    ...r.notes.map((n) => `- ${n}`),
  ].join('\n');
}

/** The variants `--sweep` prices next to the given configuration: one lever changed at a time. */
export const SWEEP: readonly { readonly label: string; readonly change: Partial<CostInputs> }[] = [
  { label: 'as given', change: {} },
  { label: '10 samples per message', change: { samplesPerMessage: 10 } },
  { label: '60 samples per message', change: { samplesPerMessage: 60 } },
  { label: 'twin write per sample (naive)', change: { twinWritePerInvocation: false } },
  { label: 'features window 1 s, batch 100', change: { featuresBatchingWindowSeconds: 1, featuresBatchSize: 100 } },
  { label: 'features window 60 s', change: { featuresBatchingWindowSeconds: 60 } },
  { label: 'scoring endpoint', change: { scoring: 'endpoint' } },
  { label: 'on-demand streams', change: { streamMode: 'on-demand' } },
  { label: 'broker (no Basic Ingest)', change: { basicIngest: false } },
  {
    label: 'the old defaults: broker, on-demand, endpoint',
    change: { basicIngest: false, streamMode: 'on-demand', scoring: 'endpoint' },
  },
  {
    label: 'all of: K=10, 300 s',
    change: { samplesPerMessage: 10, featuresBatchingWindowSeconds: 300 },
  },
];

/** Prices each {@link SWEEP} variant of `base`. */
export function sweep(base: CostInputs): { label: string; result: CostResult }[] {
  return SWEEP.map((v) => ({ label: v.label, result: estimateCost({ ...base, ...v.change }) }));
}

/** Renders a sweep as a Markdown table: total, floor, ratio and the three largest services. */
export function formatSweep(rows: readonly { label: string; result: CostResult }[]): string {
  const lines = ['| variant | total $/month | floor | ratio | largest |', '|---|---:|---:|---:|---|'];
  for (const { label, result: r } of rows) {
    const top = Object.entries(r.byService)
      .sort((a, b) => b[1].usd - a[1].usd)
      .slice(0, 3)
      .map(([s, l]) => `${s} ${l.usd.toFixed(0)}`)
      .join(', ');
    lines.push(`| ${label} | ${r.totalUsdPerMonth.toFixed(2)} | ${r.floorUsdPerMonth.toFixed(2)} | ${r.ratioToFloor} | ${top} |`);
  }
  return lines.join('\n');
}

/** Adds `pdm cost` to the program. */
export function register(program: Command): void {
  program
    .command('cost')
    .description('monthly AWS cost of the deployed stack per service, next to the unavoidable floor')
    .requiredOption('--assets <n>', 'assets (devices); 0 prices the stack at rest', nonNegativeInt)
    .requiredOption('--interval <s>', 'seconds between samples of one asset', positive)
    .option('--samples-per-message <k>', 'samples a device batches into one message', positiveInt, 1)
    .addOption(new Option('--stream-mode <mode>', 'Kinesis capacity mode').choices(['provisioned', 'on-demand']).default('provisioned'))
    .option('--shards <n>', 'shards per stream (provisioned; default: the fewest that carry the fleet)', positiveInt)
    .addOption(new Option('--scoring <mode>', 'where the model runs').choices(['in-lambda', 'endpoint']).default('in-lambda'))
    .option('--no-basic-ingest', 'devices publish through the broker (messaging charged) instead of Basic Ingest')
    .option('--timestream', 'Timestream enabled')
    .option('--batch-size <n>', 'records per clean-function batch (default: the stack default)', positiveInt)
    .option('--batching-window <s>', 'clean-function batching window in seconds, 0–300 (default: the stack default)', Number)
    .option('--features-batch-size <n>', 'records per features-function batch (default: the stack default)', positiveInt)
    .option('--features-batching-window <s>', 'features-function batching window in seconds, 0–300 (default: the stack default)', Number)
    .option('--twin-write-per-sample', 'model one twin write per sample instead of per asset per invocation')
    .option('--alerts-per-asset <n>', 'alerts per asset per month', Number, 2)
    .option('--retrains <n>', 'retraining runs a month (one asset model each; on demand, so 0 at rest)', Number, 0)
    .option('--training-minutes <m>', 'billed minutes of one ml.m5.large training job', Number, 10)
    .option('--sweep', 'price one lever at a time next to this configuration (samples per message, twin writes, windows, scoring, streams)')
    .option('--json', 'print one JSON object')
    .action((opts) => {
      const inputs: CostInputs = {
        assets: opts.assets,
        intervalSeconds: opts.interval,
        samplesPerMessage: opts.samplesPerMessage,
        streamMode: opts.streamMode,
        shards: opts.shards,
        scoring: opts.scoring,
        basicIngest: opts.basicIngest !== false,
        timestream: opts.timestream === true,
        batchSize: opts.batchSize,
        batchingWindowSeconds: opts.batchingWindow,
        featuresBatchSize: opts.featuresBatchSize,
        featuresBatchingWindowSeconds: opts.featuresBatchingWindow,
        twinWritePerInvocation: opts.twinWritePerSample !== true,
        alertsPerAssetPerMonth: opts.alertsPerAsset,
        retrainsPerMonth: opts.retrains,
        trainingMinutesPerJob: opts.trainingMinutes,
      };
      if (opts.sweep) {
        const rows = sweep(inputs);
        process.stdout.write(opts.json ? `${JSON.stringify(rows)}\n` : `${formatSweep(rows)}\n`);
        return;
      }
      const result = estimateCost(inputs);
      process.stdout.write(opts.json ? `${JSON.stringify(result)}\n` : `${formatCost(result)}\n`);
    });
}
