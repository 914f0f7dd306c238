/** `pdm cost`: the monthly bill of the deployed stack for a fleet (docs/cost.md). */
import { type Command, InvalidArgumentError } from 'commander';
import { type CostResult, estimateCost } from './model.ts';

function positive(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number');
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
    `${i.assets} assets, a sample every ${i.intervalSeconds} s, ${i.samplesPerMessage} per message; streams ${i.streamMode} (${i.shards} shards), scoring ${i.scoring}, Timestream ${i.timestream ? 'on' : 'off'}`,
    ...rows,
    `${'total'.padEnd(12)} ${`$${r.totalUsdPerMonth.toFixed(2)}`.padStart(11)} per month`,
    `${'floor'.padEnd(12)} ${`$${r.floorUsdPerMonth.toFixed(2)}`.padStart(11)}  ratio ${r.ratioToFloor}× (goal ≤ 1.25×: ${r.ratioToFloor <= 1.25 ? 'met' : 'not met'})`,
    `prices: ${r.region}, read ${r.pricesDate}`,
    ...r.notes.map((n) => `- ${n}`),
  ].join('\n');
}

/** Adds `pdm cost` to the program. */
export function register(program: Command): void {
  program
    .command('cost')
    .description('monthly AWS cost of the deployed stack per service, next to the unavoidable floor')
    .requiredOption('--assets <n>', 'assets (devices)', positiveInt)
    .requiredOption('--interval <s>', 'seconds between samples of one asset', positive)
    .option('--samples-per-message <k>', 'samples a device batches into one message', positiveInt, 1)
    .option('--stream-mode <mode>', 'on-demand | provisioned', 'on-demand')
    .option('--shards <n>', 'shards per stream (provisioned)', positiveInt)
    .option('--scoring <mode>', 'endpoint | in-lambda', 'endpoint')
    .option('--timestream', 'Timestream enabled')
    .option('--batch-size <n>', 'records per Lambda batch', positiveInt, 100)
    .option('--batching-window <s>', 'Lambda batching window in seconds (0–300)', Number, 1)
    .option('--twin-write-per-sample', 'model one twin write per sample instead of per asset per invocation')
    .option('--alerts-per-asset <n>', 'alerts per asset per month', Number, 2)
    .option('--json', 'print one JSON object')
    .action((opts) => {
      if (opts.streamMode !== 'on-demand' && opts.streamMode !== 'provisioned') throw new InvalidArgumentError(`--stream-mode must be on-demand or provisioned, got ${opts.streamMode}`);
      if (opts.scoring !== 'endpoint' && opts.scoring !== 'in-lambda') throw new InvalidArgumentError(`--scoring must be endpoint or in-lambda, got ${opts.scoring}`);
      const result = estimateCost({
        assets: opts.assets,
        intervalSeconds: opts.interval,
        samplesPerMessage: opts.samplesPerMessage,
        streamMode: opts.streamMode,
        shards: opts.shards,
        scoring: opts.scoring,
        timestream: opts.timestream === true,
        batchSize: opts.batchSize,
        batchingWindowSeconds: opts.batchingWindow,
        twinWritePerInvocation: opts.twinWritePerSample !== true,
        alertsPerAssetPerMonth: opts.alertsPerAsset,
      });
      process.stdout.write(opts.json ? `${JSON.stringify(result)}\n` : `${formatCost(result)}\n`);
    });
}
