/**
 * Writes a model bundle directory (`layers/model/` by default): one gated model file per predictor at
 * `<assetModelId>/<predictor>.json` (or `.ubj` for UBJSON input) and `manifest.json` listing each file's
 * sha256. Apart from `createdAt` the output is a pure function of the predictors.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  BUNDLE_SCHEMA,
  type BundleManifest,
  MANIFEST_FILE,
  manifestSchema,
  type PredictorEntry,
  parseManifest,
} from '../../lambdas/core/model/bundle.ts';
import { FEATURE_ENGINE_VERSION } from '../../lambdas/core/features/index.ts';
import type { AssetModelPredictors } from '../train/types.ts';
import { gateArtifact } from './gate.ts';
import { sha256Hex } from './hash.ts';
import { referenceOf } from './reference.ts';

export interface WriteBundleOptions {
  /** ISO time recorded as `createdAt`. @default the current time */
  readonly createdAt?: string;
  /**
   * Keep the asset models of an existing manifest in `dir` that `sets` does not replace (their files stay
   * untouched); used by `pdm train --only`. @default false
   */
  readonly merge?: boolean;
}

/** Writes the bundle and returns its manifest. Replaces the folders of the asset models it writes. */
export function writeBundle(
  dir: string,
  sets: readonly AssetModelPredictors[],
  opts: WriteBundleOptions = {},
): BundleManifest {
  const models: BundleManifest['models'] = {};
  const manifestPath = join(dir, MANIFEST_FILE);
  if (opts.merge && existsSync(manifestPath)) {
    const old = parseManifest(readFileSync(manifestPath, 'utf8'));
    if (old.featureEngineVersion === FEATURE_ENGINE_VERSION) Object.assign(models, old.models);
  }
  for (const set of sets) {
    const folder = join(dir, set.modelId);
    rmSync(folder, { recursive: true, force: true });
    mkdirSync(folder, { recursive: true });
    const predictors: PredictorEntry[] = [];
    const files: { model: string | Uint8Array; featureNames: readonly string[] }[] = [];
    for (const p of set.predictors) {
      const gated = gateArtifact(p.modelJson);
      const file = `${set.modelId}/${p.name}.${gated.format === 'json' ? 'json' : 'ubj'}`;
      const bytes = typeof gated.bytes === 'string' ? Buffer.from(gated.bytes, 'utf8') : gated.bytes;
      writeFileSync(join(dir, file), bytes);
      files.push({ model: gated.bytes, featureNames: p.featureNames });
      predictors.push({
        name: p.name,
        kind: p.kind,
        ...(p.component !== undefined ? { component: p.component } : {}),
        ...(p.horizon !== undefined ? { horizon: p.horizon } : {}),
        ...(p.rulCap !== undefined ? { rulCap: p.rulCap } : {}),
        file,
        sha256: sha256Hex(bytes),
        featureNames: [...p.featureNames],
        ...(p.threshold !== undefined ? { threshold: p.threshold } : {}),
        ...(p.calibration !== undefined ? { calibration: p.calibration } : {}),
        ...(p.alertThresholds !== undefined ? { alertThresholds: p.alertThresholds } : {}),
        ...(p.interval !== undefined ? { interval: p.interval } : {}),
        metrics: { ...p.metrics },
        trainingDataHash: p.trainingDataHash,
        trainingData: p.trainingData,
        trainingRows: p.trainingRows,
        params: { ...p.params },
        objective: gated.model.objective,
        numTrees: gated.model.numTrees,
      });
    }
    models[set.modelId] = set.trainingMatrix
      ? { predictors, reference: referenceOf({ matrix: set.trainingMatrix, predictors: files }) }
      : { predictors };
  }
  const sorted: BundleManifest['models'] = {};
  for (const id of Object.keys(models).sort()) sorted[id] = models[id]!;
  const manifest = manifestSchema.parse({
    schema: BUNDLE_SCHEMA,
    createdAt: opts.createdAt ?? new Date().toISOString(),
    featureEngineVersion: FEATURE_ENGINE_VERSION,
    models: sorted,
  });
  writeManifestFile(dir, manifest);
  return manifest;
}

/**
 * Writes `dir/manifest.json` as every bundle writer does (the registry's materialisation too), so
 * bundles built either way are byte-identical for the same content.
 */
export function writeManifestFile(dir: string, manifest: unknown): void {
  const manifestPath = join(dir, MANIFEST_FILE);
  mkdirSync(dirname(manifestPath), { recursive: true });
  writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
}
