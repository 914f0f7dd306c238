/**
 * `pdm train`: trains asset models' predictors and registers each as a new version in the model registry
 * (ml/registry). It never moves a champion and never touches `layers/model`: that is `pdm models promote`.
 * `--out DIR` also writes a plain bundle folder, as before the registry, for tooling that wants one.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { readBundle } from '../bundle/read.ts';
import { writeBundle } from '../bundle/write.ts';
import { parseTrainUntil, replayAzureHeldOut } from '../../local/replay/held-out.ts';
import { evaluationId } from '../registry/evaluations.ts';
import { gate } from '../registry/gate.ts';
import type { Evaluation } from '../registry/record.ts';
import { gitState } from '../registry/git.ts';
import { DEFAULT_REGISTRY_DIR, readAliases, readVersion, registerBundle } from '../registry/store.ts';
import { trainAll, TRAINERS } from '../train/index.ts';
import { repoPath, summary } from './models.ts';
import { progressBar } from './progress.ts';

const ROOT = join(import.meta.dirname, '..', '..');

function seedArg(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a non-negative integer');
  return n;
}

interface TrainOptions {
  dataDir: string;
  registry: string;
  out?: string;
  seed: number;
  only?: string[];
  json?: boolean;
  heldOutReplay?: number;
}

/**
 * The held-out replay as an evaluation of the training procedure that produced a version: the same trainer
 * retrained on data before the cut, the whole pipeline replayed after it (local/replay/held-out.ts). Its id
 * covers the cut, the data and the scoring rule, so only replays at the same cut are compared.
 */
async function heldOutReplayEvaluation(dataDir: string, trainUntil: number, dataHash: string, log: (line: string) => void): Promise<Evaluation> {
  const report = await replayAzureHeldOut({ dataDir, trainUntil, onProgress: log });
  const metrics: Record<string, number> = {
    'replay.failures': report.failures,
    'replay.preceded': report.preceded,
    'replay.falseAlerts': report.falseAlerts,
    'replay.alerts': report.alerts,
  };
  if (report.medianLeadHours !== null) metrics['replay.medianLeadHours'] = report.medianLeadHours;
  const key = { data: dataHash, trainUntil: report.trainUntil, scoring: 'component alert 1-72 h before; false = no failure of the component within 72 h' };
  return {
    id: evaluationId('industrial-machine', 'azure-held-out-replay', key),
    name: 'azure-held-out-replay',
    kind: 'held-out',
    description: `pdm replay azure --train-until ${report.trainUntil.slice(0, 10)}: the trainer retrained on data before the cut, the pipeline replayed after it`,
    metrics,
  };
}

/** Adds `train` to the program. */
export function register(program: Command): void {
  program
    .command('train')
    .description(
      'train the predictors (pumps: simulated; turbofan: C-MAPSS FD001; industrial machine: Azure PdM) and register a new version per asset model',
    )
    .option('--data-dir <dir>', 'benchmark data root', join(ROOT, '..', 'shared', 'data'))
    .option('--registry <dir>', 'model registry folder', DEFAULT_REGISTRY_DIR)
    .option('--out <dir>', 'also write a bundle folder (with --only, the other asset models of a bundle already there are kept)')
    .option('--seed <n>', 'seed of simulation, splits and samplers', seedArg, 1)
    .option('--only <modelId...>', 'train only these asset models')
    .option('--json', 'print {"versions": [...]} with the new version ids')
    .option(
      '--held-out-replay <date>',
      'industrial-machine: also run the held-out replay at this cut (YYYY-MM-DD, about 2 min) and record preceded / false alerts with the version for the promotion gate',
      (v: string) => {
        try {
          return parseTrainUntil(v);
        } catch (e) {
          throw new InvalidArgumentError((e as Error).message);
        }
      },
    )
    .action(async (opts: TrainOptions) => {
      if (opts.heldOutReplay !== undefined && opts.only !== undefined && !opts.only.includes('industrial-machine')) {
        program.error('pdm train: --held-out-replay evaluates industrial-machine: train it too (--only industrial-machine)', { exitCode: 2 });
      }
      const total = opts.only ? TRAINERS.filter((t) => opts.only!.includes(t.modelId)).length : TRAINERS.length;
      const progress = progressBar({ label: 'train', total, ...(opts.json ? { json: true, out: process.stderr } : {}) });
      const log = (line: string) => progress.log(line);
      const registry = resolve(opts.registry);
      const staging = mkdtempSync(join(tmpdir(), 'pdm-train-'));
      try {
        const sets = trainAll({
          dataDir: resolve(opts.dataDir),
          seed: opts.seed,
          log,
          onProgress: (done, _total, modelId) => progress.update(done, modelId ?? ''),
          ...(opts.only ? { only: opts.only } : {}),
        });
        progress.stop();
        // The bundle writer gates every file and builds the manifest entries; the registry stores exactly that.
        const manifest = writeBundle(staging, sets);
        const extraEvaluations: Record<string, Evaluation[]> = {};
        if (opts.heldOutReplay !== undefined) {
          const machine = manifest.models['industrial-machine']!;
          const hash = machine.predictors[0]?.trainingDataHash ?? 'unknown';
          extraEvaluations['industrial-machine'] = [await heldOutReplayEvaluation(join(resolve(opts.dataDir), 'azure_pdm'), opts.heldOutReplay, hash, log)];
        }
        const { versions } = registerBundle(registry, staging, {
          source: () => ({ kind: 'train', seed: opts.seed }),
          git: gitState(ROOT),
          extraEvaluations,
        });
        let out: string | null = null;
        if (opts.out !== undefined) {
          out = resolve(opts.out);
          writeBundle(out, sets, { merge: opts.only !== undefined, createdAt: manifest.createdAt });
          // Read back through the serving path: the bundle that was written must load and verify.
          readBundle(out);
        }
        const aliases = readAliases(registry);
        const verdict = (assetModel: string, id: string) => {
          const champion = aliases.champions[assetModel];
          return champion ? gate(readVersion(registry, champion), readVersion(registry, id)) : null;
        };
        if (opts.json) {
          process.stdout.write(
            `${JSON.stringify({
              versions: versions.map((v) => ({ ...summary(v, aliases), gate: verdict(v.assetModel, v.id) })),
              registry: repoPath(registry),
              bundle: out && repoPath(out),
            })}\n`,
          );
          return;
        }
        for (const [modelId, { predictors }] of Object.entries(manifest.models)) {
          for (const p of predictors) {
            const metrics = Object.entries(p.metrics)
              .map(([k, v]) => `${k}=${v}`)
              .join(' ');
            log(`  ${modelId}/${p.name.padEnd(12)} ${String(p.numTrees).padStart(4)} trees  ${metrics}`);
          }
        }
        for (const v of versions) {
          const champion = aliases.champions[v.assetModel];
          const g = verdict(v.assetModel, v.id);
          log(
            `registered ${v.id} in ${repoPath(registry)}` +
              (champion
                ? `; champion ${champion}, gate would ${g?.pass ? 'pass' : 'refuse'}: npx pdm models diff ${champion} ${v.id}`
                : `; no champion yet: npx pdm models promote ${v.id}`),
          );
        }
        if (out) log(`wrote ${out}/manifest.json (${manifest.featureEngineVersion})`);
      } catch (e) {
        progress.stop();
        rmSync(staging, { recursive: true, force: true });
        const err = e as Error;
        program.error(`pdm train: ${err.name}: ${err.message}`, { exitCode: 2 });
      } finally {
        rmSync(staging, { recursive: true, force: true });
      }
    });
}
