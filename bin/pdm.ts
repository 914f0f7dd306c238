/**
 * `pdm`: the project's command line. Entry point only: parses options and calls into the modules.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { contractJsonSchemas } from '../lambdas/core/contract/telemetry.ts';
import { register as registerSimulate } from '../devices/cli.ts';
import { registerModelCommands } from '../ml/cli/index.ts';

const program = new Command('pdm').description(
  'Predictive-maintenance digital twin: local runtime and tools',
);

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

function probability(value: string): number {
  const n = Number(value);
  if (!(n >= 0 && n <= 1)) throw new InvalidArgumentError('expected a number between 0 and 1');
  return n;
}

program
  .command('schema')
  .description('print the device contracts as JSON Schema (generated from the runtime validators)')
  .option('--write', 'write schemas/<name>.schema.json instead of printing')
  .action((opts: { write?: boolean }) => {
    const schemas = contractJsonSchemas();
    if (!opts.write) {
      process.stdout.write(`${JSON.stringify(schemas, null, 2)}\n`);
      return;
    }
    const dir = join(import.meta.dirname, '..', 'schemas');
    mkdirSync(dir, { recursive: true });
    for (const [name, schema] of Object.entries(schemas)) {
      const file = join(dir, `${name}.schema.json`);
      writeFileSync(file, `${JSON.stringify(schema, null, 2)}\n`);
      process.stdout.write(`wrote ${file}\n`);
    }
  });

program
  .command('local')
  .description('run a simulated fleet through the pipeline core and print twin states and alerts')
  .option('--assets <n>', 'simulated assets', positiveInt, 12)
  .option('--ticks <n>', 'simulation steps (10 simulated minutes, or one cycle, each)', positiveInt, 400)
  .option('--seed <n>', 'simulation seed', positiveInt, 1)
  .option('--samples-per-message <n>', 'samples a device batches into one message', positiveInt, 1)
  .option('--fault-rate <p>', 'share of damaged messages', probability, 0.02)
  .option('--no-models', 'score anomaly only, without the model bundle in layers/model')
  .option('--json', 'print one JSON summary at the end instead of the live log')
  .action(async (opts) => {
    const { runDemo } = await import('../local/demo.ts');
    const log = (line: string) => process.stdout.write(`${line}\n`);
    if (!opts.json)
      log(`pdm: simulating ${opts.assets} assets for ${opts.ticks} steps through the pipeline core…`);
    const summary = runDemo({
      assets: opts.assets,
      ticks: opts.ticks,
      seed: opts.seed,
      samplesPerMessage: opts.samplesPerMessage,
      faultRate: opts.faultRate,
      models: opts.models,
      verbose: !opts.json,
      log,
    });
    if (opts.json) {
      log(JSON.stringify(summary));
      return;
    }
    log('');
    log(
      `messages  received ${summary.messages.received}  accepted ${summary.messages.accepted}  quarantined ${summary.messages.quarantined}`,
    );
    log(
      `samples   received ${summary.samples.received}  clean ${summary.samples.clean}  quarantined ${summary.samples.quarantined}`,
    );
    log(
      `readings  received ${summary.readings.received}  clean ${summary.readings.clean}  quarantined ${summary.readings.quarantined}`,
    );
    log(`quarantine by reason  ${JSON.stringify(summary.byReason)}`);
    log(
      `twins ${summary.twins}  states ${JSON.stringify(summary.states)}  alerts ${JSON.stringify(summary.alerts)}`,
    );
  });

program
  .command('bench')
  .description(
    'readings/s through clean + features + anomaly + twin on one core, next to the decode-only floor',
  )
  .option('--records <n>', 'records per timed pass', positiveInt, 20_000)
  .option('--samples-per-message <n>', 'samples per device message', positiveInt, 10)
  .option('--passes <n>', 'timed passes (the best is reported)', positiveInt, 5)
  .option('--json', 'print one JSON object')
  .action(async (opts) => {
    const { runCoreBench, formatCoreBench } = await import('../ml/bench/core-bench.ts');
    const result = runCoreBench({
      records: opts.records,
      samplesPerMessage: opts.samplesPerMessage,
      passes: opts.passes,
    });
    process.stdout.write(opts.json ? `${JSON.stringify(result)}\n` : `${formatCoreBench(result)}\n`);
  });

registerModelCommands(program);
registerSimulate(program);

await program.parseAsync(process.argv);
