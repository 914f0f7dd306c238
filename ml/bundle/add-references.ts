/**
 * Adds the drift reference to a bundle that was trained before references existed, without training:
 * each asset model's training matrix is rebuilt with the trainer's own feature pipeline (same data,
 * same seed as the manifest records), checked to be the training data (data hash and every predictor's
 * row count must match the manifest), and binned by the shared `referenceOf`. Model files are not
 * touched, so their sha256s stay what they were.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AssetModelReference, TrainingMatrix } from '../../lambdas/core/drift/reference.ts';
import { type BundleManifest, MANIFEST_FILE, manifestSchema, parseManifest } from '../../lambdas/core/model/bundle.ts';
import { buildPumpDataset, PUMP_MODEL_ID, pumpTrainingMatrix, pumpTrainingRows } from '../train/pump.ts';
import { turbofanTrainingMatrix, turbofanTrainingRows, turbofanTrainingSet } from '../train/turbofan.ts';
import { industrialTrainingMatrix, industrialTrainingSet } from '../train/industrial-machine.ts';
import { referenceOf } from './reference.ts';
import { readBundle } from './read.ts';

/** The recomputed matrix is not the data the bundle's models were trained on. */
export class TrainingDataMismatchError extends Error {
  override readonly name: string = 'TrainingDataMismatchError';
}

interface Rebuilt {
  readonly matrix: TrainingMatrix;
  readonly hash: string;
  /** Training rows per predictor name, as the trainer would record them. */
  readonly rows: Readonly<Record<string, number>>;
}

type Entry = BundleManifest['models'][string];

/** How each trainer's matrix is rebuilt, from the manifest's own parameters. */
const REBUILD: Record<string, (entry: Entry, dataDir: string) => Rebuilt> = {
  [PUMP_MODEL_ID]: (entry) => {
    const seed = Number(entry.predictors[0]?.params.seed ?? 1);
    const data = buildPumpDataset({ seed });
    return { matrix: pumpTrainingMatrix(data), hash: data.hash, rows: pumpTrainingRows(data) };
  },
  turbofan: (entry, dataDir) => {
    const seed = Number(entry.predictors[0]?.params.seed ?? 1);
    const { set, hash, trainingData } = turbofanTrainingSet(join(dataDir, 'cmapss'));
    const served = [...new Set(entry.predictors.flatMap((p) => p.featureNames))];
    return { matrix: turbofanTrainingMatrix(set, served, trainingData), hash, rows: turbofanTrainingRows(set, seed) };
  },
  'industrial-machine': (entry, dataDir) => {
    const { d, parts, columns, hash } = industrialTrainingSet(join(dataDir, 'azure_pdm'));
    const source = `${entry.predictors[0]?.trainingData ?? 'Azure PdM'}: every training hour`;
    const rows = Object.fromEntries(entry.predictors.map((p) => [p.name, parts.all.length]));
    return { matrix: industrialTrainingMatrix(d, parts, columns, source), hash, rows };
  },
};

export interface AddReferencesOptions {
  readonly bundleDir: string;
  /** Benchmark data root (`cmapss/`, `azure_pdm/` under it). */
  readonly dataDir: string;
  /** Asset models to do; all that have a rebuild. @default all */
  readonly only?: readonly string[];
  readonly log?: (line: string) => void;
}

/**
 * Writes `reference` into each selected asset model of `bundleDir/manifest.json` and returns the new manifest.
 * @throws TrainingDataMismatchError when the rebuilt data is not what the manifest says it trained on.
 */
export function addReferences(opts: AddReferencesOptions): BundleManifest {
  const log = opts.log ?? (() => {});
  const path = join(opts.bundleDir, MANIFEST_FILE);
  const manifest = parseManifest(readFileSync(path, 'utf8'));
  // Loads and verifies every model file: the reference is only added to the bytes the manifest lists.
  readBundle(opts.bundleDir);
  const models: BundleManifest['models'] = {};
  for (const [id, entry] of Object.entries(manifest.models)) {
    const rebuild = REBUILD[id];
    if (!rebuild || (opts.only && !opts.only.includes(id))) {
      models[id] = entry;
      continue;
    }
    log(`${id}: rebuilding the training matrix…`);
    const r = rebuild(entry, opts.dataDir);
    for (const p of entry.predictors) {
      if (p.trainingDataHash !== r.hash) {
        throw new TrainingDataMismatchError(`${id}/${p.name}: data hash ${r.hash.slice(0, 12)}…, the manifest says ${p.trainingDataHash.slice(0, 12)}…`);
      }
      if (r.rows[p.name] !== p.trainingRows) {
        throw new TrainingDataMismatchError(`${id}/${p.name}: ${r.rows[p.name]} training rows rebuilt, the manifest says ${p.trainingRows}`);
      }
    }
    const reference = referenceOf({
      matrix: r.matrix,
      predictors: entry.predictors.map((p) => ({
        model: new Uint8Array(readFileSync(join(opts.bundleDir, p.file))),
        featureNames: p.featureNames,
      })),
    });
    log(`${id}: ${describeWatch(reference)}`);
    models[id] = { ...entry, reference };
  }
  const out = manifestSchema.parse({ ...manifest, models });
  writeFileSync(path, `${JSON.stringify(out, null, 2)}\n`);
  return out;
}

/** One line on what a reference watches and the self-check's figures (docs/drift.md). */
export function describeWatch(r: AssetModelReference): string {
  const w = r.watch;
  const head = w
    ? `${r.rows} rows; self-check on ${w.windows} windows of ${w.assets} assets × ${w.windowHours} h, p${Math.round(w.quantile * 100)} PSI ≤ ${w.maxNullPsi}`
    : `${r.rows} rows; no per-row asset and time, ranked by gain alone`;
  if (r.topFeatures.length === 0) return `${head}; no feature passes: nothing watched`;
  return `${head}; watched: ${r.topFeatures.map((t) => (t.nullPsi === undefined ? t.name : `${t.name} (${t.nullPsi})`)).join(', ')}`;
}
