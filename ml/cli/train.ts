/** `pdm train`: trains every asset model's predictors and writes the model bundle. */
import { join, resolve } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { readBundle } from '../bundle/read.ts';
import { writeBundle } from '../bundle/write.ts';
import { trainAll, TRAINERS } from '../train/index.ts';
import { progressBar } from './progress.ts';

const ROOT = join(import.meta.dirname, '..', '..');

function seedArg(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a non-negative integer');
  return n;
}

/** Adds `train` to the program. */
export function register(program: Command): void {
  program
    .command('train')
    .description('train the predictors (pumps: simulated; turbofan: C-MAPSS FD001; industrial machine: Azure PdM) and write the model bundle')
    .option('--data-dir <dir>', 'benchmark data root', join(ROOT, '..', 'shared', 'data'))
    .option('--out <dir>', 'bundle directory', join(ROOT, 'layers', 'model'))
    .option('--seed <n>', 'seed of simulation, splits and samplers', seedArg, 1)
    .option('--only <modelId...>', 'train only these asset models; the others are kept from the existing bundle')
    .action((opts: { dataDir: string; out: string; seed: number; only?: string[] }) => {
      const total = opts.only ? TRAINERS.filter((t) => opts.only!.includes(t.modelId)).length : TRAINERS.length;
      const progress = progressBar({ label: 'train', total });
      const log = (line: string) => progress.log(line);
      const out = resolve(opts.out);
      try {
        const sets = trainAll({
          dataDir: resolve(opts.dataDir),
          seed: opts.seed,
          log,
          onProgress: (done, _total, modelId) => progress.update(done, modelId ?? ''),
          ...(opts.only ? { only: opts.only } : {}),
        });
        progress.stop();
        const manifest = writeBundle(out, sets, { merge: opts.only !== undefined });
        // Read back through the serving path: the bundle that was written must load and verify.
        readBundle(out);
        log(`\nwrote ${out}/manifest.json (${manifest.featureEngineVersion})`);
        for (const [modelId, { predictors }] of Object.entries(manifest.models)) {
          for (const p of predictors) {
            const metrics = Object.entries(p.metrics)
              .map(([k, v]) => `${k}=${v}`)
              .join(' ');
            log(`  ${modelId}/${p.name.padEnd(12)} ${String(p.numTrees).padStart(4)} trees  ${metrics}`);
          }
        }
      } catch (e) {
        progress.stop();
        const err = e as Error;
        program.error(`pdm train: ${err.name}: ${err.message}`, { exitCode: 2 });
      }
    });
}
