/** The model bundle from a directory (the model layer at /opt/model), and the in-process scorer port. */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AssetModel } from '../core/catalog/types.ts';
import { loadBundle, MANIFEST_FILE, type ModelBundle } from '../core/model/bundle.ts';
import { type BundleScorerOptions, createBundleScorer } from '../core/model/scorer.ts';
import type { RowScorer } from '../core/pipeline.ts';

import type { FeatureRow, Prediction, Twin } from '../core/twin/twin.ts';
import type { Scorer, ShadowScorer } from './ports.ts';

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** The model bundle a function needs is not where it was told to look. */
export class ModelBundleMissingError extends Error {
  override readonly name: string = 'ModelBundleMissingError';
}

/**
 * Loads `dir/manifest.json` and its model files, verifying each file's sha256. A directory without a
 * manifest is an empty bundle (every asset model scores null), so a local stage without models still
 * runs; with `required` (the Lambda handler) it throws instead, so a missing layer fails the cold start
 * loudly rather than scoring nothing.
 * @throws ModelBundleMissingError when `required` and there is no manifest.
 */
export function readBundleDir(dir: string, opts: { readonly required?: boolean } = {}): ModelBundle {
  const manifestPath = join(dir, MANIFEST_FILE);
  if (!existsSync(manifestPath)) {
    if (opts.required) throw new ModelBundleMissingError(`no model bundle at ${manifestPath}: the model layer is missing or empty (PDM_MODEL_DIR=${dir})`);
    return { manifest: emptyManifest(), models: new Map() };
  }
  return loadBundle(readFileSync(manifestPath, 'utf8'), (rel) => new Uint8Array(readFileSync(join(dir, rel))), {
    sha256,
  });
}

function emptyManifest(): ModelBundle['manifest'] {
  return { schema: 'pdm.model-bundle.v1', createdAt: new Date(0).toISOString(), featureEngineVersion: '', models: {} };
}

/** Whether the bundle has predictors for an asset model. */
export function bundleScores(bundle: ModelBundle, model: AssetModel): boolean {
  return (bundle.models.get(model.id)?.predictors.length ?? 0) > 0;
}

/** Scores in the Lambda with the core's evaluator (`PDM_SCORING_MODE=in-lambda`). */
export class InProcessScorer implements Scorer {
  private readonly rowScorer: RowScorer;

  constructor(
    private readonly bundle: ModelBundle,
    options: BundleScorerOptions = {},
  ) {
    this.rowScorer = createBundleScorer(bundle, options);
  }

  async score(model: AssetModel, twin: Twin, rows: readonly FeatureRow[]): Promise<(Prediction | null)[]> {
    return this.rowScorer(model, twin, rows);
  }

  scores(model: AssetModel): boolean {
    return bundleScores(this.bundle, model);
  }
}

/**
 * The in-process scorer of the bundle's shadow challengers, or null when it has none. TreeSHAP is off:
 * nobody reads a challenger's contributors, and they cost the most per row.
 */
export function createShadowScorer(bundle: ModelBundle): ShadowScorer | null {
  const challengers = bundle.challengers;
  if (!challengers || challengers.size === 0) return null;
  const rowScorer = createBundleScorer({ manifest: bundle.manifest, models: challengers }, { explainFrom: Number.POSITIVE_INFINITY });
  return (model, twin, rows) => (challengers.has(model.id) ? rowScorer(model, twin, rows) : null);
}
