/** `pdm bundle reference`: adds the drift reference to an existing bundle without retraining. */
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { addReferences } from '../bundle/add-references.ts';

const ROOT = join(import.meta.dirname, '..', '..');

export function register(program: Command): void {
  const bundle = program.command('bundle').description('model bundle maintenance');
  bundle
    .command('reference')
    .description(
      "rebuild each asset model's training matrix (same data and seed as the manifest), check it is the training data, and store its drift reference in manifest.json; model files are untouched",
    )
    .option('--dir <dir>', 'bundle directory', join(ROOT, 'layers', 'model'))
    .option('--data-dir <dir>', 'benchmark data root', join(ROOT, '..', 'shared', 'data'))
    .option('--only <modelId...>', 'only these asset models')
    .action((opts: { dir: string; dataDir: string; only?: string[] }) => {
      addReferences({
        bundleDir: resolve(opts.dir),
        dataDir: resolve(opts.dataDir),
        ...(opts.only ? { only: opts.only } : {}),
        log: (line) => process.stderr.write(`${line}\n`),
      });
    });
}
