/**
 * `pdm`: the project's command line. Entry point only: parses options and calls into the modules.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { errorLine, exitCodeOf } from './cli-errors.ts';
import { contractJsonSchemas } from '../lambdas/core/contract/telemetry.ts';
import { register as registerSimulate } from '../devices/cli.ts';
import { register as registerDevices } from '../devices/provision-cli.ts';
import { register as registerSmoke } from '../devices/smoke-cli.ts';
import { register as registerCost } from '../lib/cost/cli.ts';
import { register as registerLocal } from '../local/cli.ts';
import { register as registerHistory, registerModelsCompare } from '../local/history/cli.ts';
import { register as registerDrift } from '../local/history/drift.ts';
import { register as registerRetrain } from '../local/history/retrain.ts';
import { register as registerDashboard } from '../local/dashboard/cli.ts';
import { register as registerLoad } from '../local/load/cli.ts';
import { register as registerReplay } from '../local/replay/cli.ts';
import { registerModelCommands } from '../ml/cli/index.ts';
import { registerAwsModelCommands } from '../ml/cli/models-aws.ts';

const { version } = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'package.json'), 'utf8')) as { version: string };

const program = new Command('pdm')
  .description('Predictive-maintenance digital twin: local runtime and tools')
  .version(version, '-V, --version', 'print the version of pdm-twin')
  .option('--debug', 'print the stack trace of an error (also PDM_DEBUG=1)');

/** The command being run, for the error line ("evaluate ai4i"). */
let running = '';
program.hook('preAction', (_root, action) => {
  const names: string[] = [];
  for (let c: Command | null = action; c && c !== program; c = c.parent) names.unshift(c.name());
  running = names.join(' ');
});

/** Any error a command lets through ends here: one line, a non-zero exit, the stack only on request. */
function fail(e: unknown): never {
  const debug = program.opts().debug === true || process.argv.includes('--debug') || process.env.PDM_DEBUG === '1';
  process.stderr.write(`${errorLine(e, running)}\n`);
  if (debug && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
  process.exit(exitCodeOf(e));
}
process.on('uncaughtException', fail);
process.on('unhandledRejection', fail);

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive integer');
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
  .command('bench')
  .description(
    'readings/s through clean + features + anomaly + twin on one core, next to the decode-only floor',
  )
  .option('--records <n>', 'records per timed pass (default 20000; 5000 with --handlers)', positiveInt)
  .option('--samples-per-message <n>', 'samples per device message', positiveInt, 10)
  .option('--passes <n>', 'timed passes (the best is reported; default 5; 3 with --handlers)', positiveInt)
  .option('--handlers', 'benchmark the clean and features Lambda handlers (in-memory ports, no I/O) instead of the core')
  .option('--shadow', 'with --handlers: also run the features handler with a shadow challenger per asset model')
  .option('--json', 'print one JSON object')
  .action(async (opts) => {
    if (opts.handlers) {
      const { runHandlerBench, formatHandlerBench } = await import('../ml/bench/handler-bench.ts');
      const result = await runHandlerBench({
        records: opts.records ?? 5_000,
        samplesPerMessage: opts.samplesPerMessage,
        passes: opts.passes ?? 3,
        ...(opts.shadow ? { shadow: true } : {}),
      });
      process.stdout.write(opts.json ? `${JSON.stringify(result)}\n` : `${formatHandlerBench(result)}\n`);
      return;
    }
    const { runCoreBench, formatCoreBench } = await import('../ml/bench/core-bench.ts');
    const result = runCoreBench({
      records: opts.records ?? 20_000,
      samplesPerMessage: opts.samplesPerMessage,
      passes: opts.passes ?? 5,
    });
    process.stdout.write(opts.json ? `${JSON.stringify(result)}\n` : `${formatCoreBench(result)}\n`);
  });

registerLocal(program);
registerModelCommands(program);
// The local registry's `pdm models` commands join this command when they land.
registerAwsModelCommands(program.commands.find((c) => c.name() === 'models') ?? program.command('models').description('model versions: the SageMaker Model Registry of a deployed stage (--stage)'));
registerModelsCompare(program);
registerSimulate(program);
registerDevices(program);
registerSmoke(program);
registerCost(program);
registerReplay(program);
registerLoad(program);
registerHistory(program);
registerDrift(program);
registerRetrain(program);
registerDashboard(program);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  fail(e);
}
