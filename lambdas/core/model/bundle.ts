/**
 * The model bundle: `manifest.json` plus one XGBoost JSON/UBJSON file per predictor (`layers/model/`).
 * The manifest is the product's model contract on disk: which predictors serve which asset model, their
 * feature columns by name, and the evidence that they are the files that were trained (sha256, data hash,
 * metrics). See docs/models.md.
 *
 * Pure: the caller injects a file reader and, when the file bytes should be verified, a sha256 function
 * (the Lambda adapter and `ml/bundle/read.ts` pass `node:crypto`). Loading compiles every model once and
 * precomputes, per predictor, where each of its columns sits in the feature engine's vector, so scoring
 * never looks a name up.
 */
import { z } from 'zod';
import { findAssetModel } from '../catalog/index.ts';
import type { AssetModel } from '../catalog/types.ts';
import { FEATURE_ENGINE_VERSION, featureNames } from '../features/index.ts';
import { rulIntervalSchema } from './interval.ts';
import { type CompiledModel, loadXgboostModel } from './model.ts';
import { alertThresholdsSchema, calibrationSchema, type ModelDecisions } from './decision.ts';
import { type AssetModelReference, assetModelReferenceSchema } from '../drift/reference.ts';

export const BUNDLE_SCHEMA = 'pdm.model-bundle.v1';
export const MANIFEST_FILE = 'manifest.json';

const finite = z.number().refine(Number.isFinite, 'must be finite');

/** One predictor's entry in the manifest. */
export const predictorEntrySchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'letters, digits, ".", "_", "-"'),
  kind: z.enum(['failure', 'rul', 'component-failure']),
  component: z.string().min(1).optional(),
  /** Prediction horizon in clock units (failure predictors). */
  horizon: finite.positive().optional(),
  /** Cap of the RUL training target, clock units. */
  rulCap: finite.positive().optional(),
  /** Path relative to the bundle directory, forward slashes, no `..`. */
  file: z
    .string()
    .min(1)
    .refine((f) => !f.startsWith('/') && !f.split('/').includes('..') && !f.includes('\\'), 'relative path'),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'lower-case hex sha256'),
  featureNames: z.array(z.string().min(1)).min(1),
  threshold: finite.min(0).max(1).optional(),
  /** Classifiers: raw output → calibrated probability, fitted on validation data inside the training period. */
  calibration: calibrationSchema.optional(),
  /** Classifiers: WATCH / WARNING / CRITICAL thresholds on the calibrated probability. */
  alertThresholds: alertThresholdsSchema.optional(),
  /** `rul` predictors: the 90 % prediction interval's calibration (lambdas/core/model/interval.ts). */
  interval: rulIntervalSchema.optional(),
  metrics: z.record(z.string(), finite),
  trainingDataHash: z.string().min(1),
  trainingData: z.string(),
  trainingRows: z.number().int().nonnegative(),
  params: z.record(z.string(), z.union([z.number(), z.string()])),
  objective: z.string().min(1),
  numTrees: z.number().int().positive(),
});

export const manifestSchema = z.strictObject({
  schema: z.literal(BUNDLE_SCHEMA),
  /** ISO-8601 time the bundle was written. */
  createdAt: z.string().min(1),
  featureEngineVersion: z.string().min(1),
  models: z.record(
    z.string(),
    z.strictObject({
      predictors: z.array(predictorEntrySchema),
      /** Training reference for drift (PSI): quantile bins per served feature and the top features (docs/drift.md). */
      reference: assetModelReferenceSchema.optional(),
    }),
  ),
  /**
   * Shadow challengers (docs/models.md "Shadow challengers"): per asset model with a champion above, the
   * registry version scored next to it and its predictors, whose files live under `challengers/`. Their
   * outputs go to the history only; absent in bundles without challengers, which load as before.
   */
  challengers: z
    .record(
      z.string(),
      z.strictObject({
        /** Registry version id, `<assetModel>@<n>`. */
        version: z.string().regex(/^[a-z0-9][a-z0-9-]*@[1-9][0-9]*$/, '<assetModel>@<n>'),
        predictors: z.array(predictorEntrySchema).min(1),
      }),
    )
    .optional(),
});

export type PredictorEntry = z.infer<typeof predictorEntrySchema>;
export type BundleManifest = z.infer<typeof manifestSchema>;

/** The manifest is not valid JSON or does not follow `pdm.model-bundle.v1`. */
export class BundleManifestError extends Error {
  override readonly name: string = 'BundleManifestError';
}

/** A model file's bytes do not hash to the manifest's sha256: the file is not the one that was shipped. */
export class BundleIntegrityError extends Error {
  override readonly name: string = 'BundleIntegrityError';
  constructor(
    readonly file: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`${file}: sha256 is ${actual}, the manifest says ${expected}`);
  }
}

/** The bundle was built for another feature engine: its columns would mean something else. */
export class FeatureEngineMismatchError extends Error {
  override readonly name: string = 'FeatureEngineMismatchError';
  constructor(
    readonly bundleVersion: string,
    readonly engineVersion: string,
  ) {
    super(
      `model bundle was built for feature engine ${bundleVersion}, this runtime computes ${engineVersion}; retrain (npx pdm train)`,
    );
  }
}

/** A predictor names a feature the engine does not compute for its asset model. */
export class UnknownFeatureError extends Error {
  override readonly name: string = 'UnknownFeatureError';
  constructor(
    readonly modelId: string,
    readonly predictor: string,
    readonly features: readonly string[],
  ) {
    super(
      `${modelId}/${predictor}: feature(s) ${features.slice(0, 5).join(', ')}${features.length > 5 ? ', …' : ''} are not computed by the feature engine for ${modelId}`,
    );
  }
}

/** A predictor is inconsistent with its model file or its asset model (count, names, kind, component). */
export class BundlePredictorError extends Error {
  override readonly name: string = 'BundlePredictorError';
}

/** A predictor ready to score. */
export interface BundlePredictor {
  readonly entry: PredictorEntry;
  readonly model: CompiledModel;
  /** `columns[j]` = index in the engine's feature vector of this model's column j. */
  readonly columns: Int32Array;
}

export interface BundleAssetModel {
  readonly assetModel: AssetModel;
  readonly predictors: readonly BundlePredictor[];
  readonly failure: BundlePredictor | null;
  readonly rul: BundlePredictor | null;
  readonly components: readonly BundlePredictor[];
  /** The training reference for drift; null for bundles written before it existed. */
  readonly reference: AssetModelReference | null;
}

/** A challenger loaded like a champion: its predictors ready to score, never to decide. */
export interface BundleChallenger extends BundleAssetModel {
  /** Registry version id (`turbofan@3`). */
  readonly version: string;
}

export interface ModelBundle {
  readonly manifest: BundleManifest;
  /** By asset model id; asset models absent here have no model (scored as null). */
  readonly models: ReadonlyMap<string, BundleAssetModel>;
  /**
   * Shadow challengers by asset model id, each next to a champion in `models`. Only the shadow scorer
   * reads them; policies, the twin and the what-if see `models` alone. @default none
   */
  readonly challengers?: ReadonlyMap<string, BundleChallenger>;
}

/** A challenger names an asset model without a champion in the bundle, or collides with one. */
export class BundleChallengerError extends Error {
  override readonly name: string = 'BundleChallengerError';
}

export interface LoadBundleOptions {
  /**
   * Hex sha256 of a file's bytes. When given, every model file is checked against the manifest
   * ({@link BundleIntegrityError}); when omitted the caller vouches that it verified the bytes.
   * @default undefined (no check here)
   */
  readonly sha256?: (bytes: Uint8Array) => string;
}

const utf8 = new TextEncoder();

/** Validates a manifest's text without loading any model. */
export function parseManifest(manifestText: string): BundleManifest {
  let raw: unknown;
  try {
    raw = JSON.parse(manifestText);
  } catch (e) {
    throw new BundleManifestError(`manifest is not JSON: ${(e as Error).message}`);
  }
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue ? issue.path.join('.') || '(root)' : '(root)';
    throw new BundleManifestError(`manifest ${where}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}

/**
 * Validates the manifest, (optionally) verifies each file's sha256, compiles each model with the
 * evaluator's loader (which applies the artifact gate: no truncated-by-attribute, categorical or
 * multi-output model passes), and maps each predictor's columns onto the feature engine's vector.
 * @param readFile reads a path relative to the bundle directory.
 * @throws BundleManifestError, BundleIntegrityError, FeatureEngineMismatchError, UnknownFeatureError,
 *   BundlePredictorError, or the evaluator's model errors (ModelFormatError, BestIterationError, …).
 */
export function loadBundle(
  manifestText: string,
  readFile: (relPath: string) => string | Uint8Array,
  opts: LoadBundleOptions = {},
): ModelBundle {
  const manifest = parseManifest(manifestText);
  if (manifest.featureEngineVersion !== FEATURE_ENGINE_VERSION) {
    throw new FeatureEngineMismatchError(manifest.featureEngineVersion, FEATURE_ENGINE_VERSION);
  }
  const models = new Map<string, BundleAssetModel>();
  for (const [modelId, { predictors: entries, reference }] of Object.entries(manifest.models)) {
    models.set(modelId, loadAssetModel(modelId, entries, reference ?? null, readFile, opts));
  }
  const challengers = new Map<string, BundleChallenger>();
  const championFiles = new Set(Object.values(manifest.models).flatMap((m) => m.predictors.map((p) => p.file)));
  for (const [modelId, { version, predictors: entries }] of Object.entries(manifest.challengers ?? {})) {
    const label = `manifest challengers.${modelId}`;
    const champion = models.get(modelId);
    if (!champion || champion.predictors.length === 0) {
      throw new BundleChallengerError(`${label}: ${modelId} has no champion predictors in the bundle; a challenger is scored only next to one`);
    }
    if (!version.startsWith(`${modelId}@`)) throw new BundleChallengerError(`${label}: version ${version} is not a version of ${modelId}`);
    const shared = entries.find((e) => championFiles.has(e.file));
    if (shared) throw new BundleChallengerError(`${label}: ${shared.file} is also a champion's file; challenger files live under challengers/`);
    // The champion's reference stays the drift baseline: the challenger scores the same rows.
    challengers.set(modelId, { ...loadAssetModel(modelId, entries, champion.reference, readFile, opts), version });
  }
  return challengers.size > 0 ? { manifest, models, challengers } : { manifest, models };
}

/** Validates and compiles one asset model's predictors (a champion's, or a challenger's). */
function loadAssetModel(
  modelId: string,
  entries: readonly PredictorEntry[],
  reference: AssetModelReference | null,
  readFile: (relPath: string) => string | Uint8Array,
  opts: LoadBundleOptions,
): BundleAssetModel {
  const assetModel = findAssetModel(modelId);
  if (!assetModel) throw new BundleManifestError(`manifest models.${modelId}: unknown asset model`);
  const engineIndex = new Map(featureNames(assetModel).map((n, i) => [n, i]));
  const unbinned = reference ? Object.keys(reference.features).filter((n) => !engineIndex.has(n)) : [];
  if (unbinned.length > 0) throw new UnknownFeatureError(modelId, 'reference', unbinned);
  const predictors: BundlePredictor[] = [];
  const names = new Set<string>();
  for (const entry of entries) {
    const label = `${modelId}/${entry.name}`;
    if (names.has(entry.name)) throw new BundlePredictorError(`${label}: duplicate predictor name`);
    names.add(entry.name);
    checkKind(entry, assetModel, label);
    const unknown = entry.featureNames.filter((n) => !engineIndex.has(n));
    if (unknown.length > 0) throw new UnknownFeatureError(modelId, entry.name, unknown);
    if (new Set(entry.featureNames).size !== entry.featureNames.length) {
      throw new BundlePredictorError(`${label}: featureNames has duplicates`);
    }
    const bytes = readFile(entry.file);
    if (opts.sha256) {
      const actual = opts.sha256(typeof bytes === 'string' ? utf8.encode(bytes) : bytes);
      if (actual !== entry.sha256) throw new BundleIntegrityError(entry.file, entry.sha256, actual);
    }
    const model = loadXgboostModel(bytes);
    checkModel(entry, model, label);
    const columns = Int32Array.from(entry.featureNames, (n) => engineIndex.get(n)!);
    predictors.push({ entry, model, columns });
  }
  const one = (kind: PredictorEntry['kind']) => {
    const found = predictors.filter((p) => p.entry.kind === kind);
    if (found.length > 1) throw new BundlePredictorError(`${modelId}: more than one ${kind} predictor`);
    return found[0] ?? null;
  };
  return {
    assetModel,
    predictors,
    failure: one('failure'),
    rul: one('rul'),
    components: predictors.filter((p) => p.entry.kind === 'component-failure'),
    reference,
  };
}

function checkKind(entry: PredictorEntry, assetModel: AssetModel, label: string): void {
  if (entry.interval !== undefined && entry.kind !== 'rul') {
    throw new BundlePredictorError(`${label}: only a rul predictor has an interval, this is ${entry.kind}`);
  }
  if (entry.kind === 'component-failure') {
    if (entry.component === undefined || !Object.hasOwn(assetModel.components, entry.component)) {
      throw new BundlePredictorError(
        `${label}: component-failure needs a component of ${assetModel.id} (${Object.keys(assetModel.components).join(', ')}), got ${entry.component ?? 'none'}`,
      );
    }
  }
}

function checkModel(entry: PredictorEntry, model: CompiledModel, label: string): void {
  if (model.numFeatures !== entry.featureNames.length) {
    throw new BundlePredictorError(
      `${label}: the model has ${model.numFeatures} features, the manifest lists ${entry.featureNames.length}`,
    );
  }
  if (model.featureNames) {
    const i = model.featureNames.findIndex((n, j) => n !== entry.featureNames[j]);
    if (i >= 0) {
      throw new BundlePredictorError(
        `${label}: column ${i} is "${model.featureNames[i]}" in the model file, "${entry.featureNames[i]}" in the manifest`,
      );
    }
  }
  if (model.numTrees !== entry.numTrees) {
    throw new BundlePredictorError(`${label}: the model has ${model.numTrees} trees, the manifest says ${entry.numTrees}`);
  }
  if (model.objective !== entry.objective) {
    throw new BundlePredictorError(`${label}: objective is ${model.objective}, the manifest says ${entry.objective}`);
  }
  if (entry.kind === 'rul' && (entry.calibration !== undefined || entry.alertThresholds !== undefined)) {
    throw new BundlePredictorError(`${label}: calibration and alert thresholds apply to classifiers, not to a rul predictor`);
  }
  // A classifier must output a probability; anything else would be read as one.
  if (entry.kind !== 'rul' && model.outputTransform !== 'sigmoid') {
    throw new BundlePredictorError(`${label}: a ${entry.kind} predictor needs a logistic objective, got ${model.objective}`);
  }
}

/** The alert thresholds of an asset model's classifiers, for the twin's risk policy. */
export function decisionsOf(entry: BundleAssetModel | undefined): ModelDecisions {
  const components: Record<string, NonNullable<PredictorEntry['alertThresholds']>> = {};
  if (!entry) return { components };
  for (const c of entry.components) {
    const t = c.entry.alertThresholds;
    if (t !== undefined && c.entry.component !== undefined) components[c.entry.component] = t;
  }
  const failure = entry.failure?.entry.alertThresholds;
  return failure !== undefined ? { failure, components } : { components };
}
