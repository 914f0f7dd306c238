/**
 * `pdm models pull --stage S --asset-model M [--predictor P] [--version N]`: brings model package
 * versions of a deployed stage (trained by the retraining state machine) into the LOCAL registry as a
 * new version, so `pdm models diff | promote | materialize` and `pdm models check --stage` close the
 * loop (docs/models.md, "Model Registry in AWS").
 *
 * The new version is the local champion's entry with each pulled predictor's file, sha256, tree count,
 * metrics, calibration and alert thresholds replaced; the other predictors keep the champion's files.
 * A classifier is pulled only with a calibration of its own (the evaluation step writes one), or when
 * the champion serves raw output too: the champion's calibration maps the champion's outputs, not the
 * new model's. An RUL predictor likewise takes the conformal `interval` the evaluation step fitted on
 * the new model's validation residuals, and is refused without one when the champion has one.
 */
import { gunzipSync } from 'node:zlib';
import { z } from 'zod';
import { METADATA, type RegistryVersion, type SageMakerModelRegistry } from '../../lambdas/adapters/aws/model-registry.ts';
import { alertThresholdsSchema, calibrationSchema } from '../../lambdas/core/model/decision.ts';
import { rulIntervalSchema } from '../../lambdas/core/model/interval.ts';
import { singleTarFile } from '../../lambdas/core/model/tar.ts';
import { modelPackageGroupName } from '../../lambdas/core/retrain/names.ts';
import { gateArtifact } from '../bundle/gate.ts';
import { sha256Hex } from '../bundle/hash.ts';
import { evaluationId } from '../registry/evaluations.ts';
import { gate, type GateResult } from '../registry/gate.ts';
import type { ComparedWith, Evaluation, VersionRecord } from '../registry/record.ts';
import { championOf, readBlob, registerVersion, UnknownAssetModelError } from '../registry/store.ts';

/** A version that cannot be pulled: none to pick, a file that does not match its record, no calibration of its own. */
export class PullError extends Error {
  override readonly name: string = 'PullError';
}

/** What the pull reads of the evaluation JSON (lambdas/retrain/app.ts `evaluateTrainedModel`; `register` writes a smaller one). */
const evaluationDocSchema = z.looseObject({
  trainingJob: z.string().optional(),
  metrics: z.record(z.string(), z.number().nullable()),
  holdout: z.looseObject({ rows: z.number(), from: z.string(), trainRows: z.number().optional(), validFrom: z.string().optional() }).optional(),
  champion: z.looseObject({ sha256: z.string(), metrics: z.record(z.string(), z.number().nullable()) }).optional(),
});

/** The decision JSON (`DecisionDocument` in lambdas/retrain/app.ts); one without `kind` predates RUL decisions and is a classifier's. */
const classifierDecisionSchema = z.looseObject({
  kind: z.literal('classifier').optional(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  calibration: calibrationSchema,
  alertThresholds: alertThresholdsSchema,
  threshold: z.number(),
});
const rulDecisionSchema = z.looseObject({
  kind: z.literal('rul'),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  interval: rulIntervalSchema,
});

export interface PullDeps {
  readonly registry: Pick<SageMakerModelRegistry, 'list' | 'find' | 'describe'>;
  /** Bytes of an `s3://bucket/key` object. */
  readonly getObject: (uri: string) => Promise<Uint8Array>;
}

export interface PullOptions {
  readonly stage: string;
  readonly assetModel: string;
  readonly predictor?: string;
  /** SageMaker version number in the predictor's group (needs `predictor`). @default the newest version not Rejected */
  readonly version?: number;
  /** Local registry folder. */
  readonly registryDir: string;
  readonly git: VersionRecord['git'];
  /** @default now */
  readonly at?: string;
}

export interface PulledPredictor {
  readonly predictor: string;
  readonly group: string;
  readonly version: number;
  readonly file: string;
  readonly sha256: string;
  readonly rewroteBaseScore: boolean;
  /** False when the evaluation's champion is not the local champion's file: its figures cannot stand in. */
  readonly comparable: boolean;
}

export interface PullResult {
  /** The registered version; null when every selected predictor already is the champion's file. */
  readonly record: VersionRecord | null;
  readonly pulled: readonly PulledPredictor[];
  /** Predictors not pulled, with why. */
  readonly skipped: readonly { readonly predictor: string; readonly reason: string }[];
  /** What `pdm models promote` would say. */
  readonly gate: GateResult | null;
}

const json = (bytes: Uint8Array): unknown => JSON.parse(new TextDecoder().decode(bytes));

function parseWith<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new PullError(`${what}: ${r.error.issues.map((i) => `${i.path.join('.') || '(root)'} ${i.message}`).join('; ')}`);
  return r.data;
}

/** Finite metrics under the local registry's names: the evaluation's `rmse` and `intervalMedianWidth` are in hours. */
function localMetrics(m: Readonly<Record<string, number | null>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(m)) if (v !== null && Number.isFinite(v)) out[k === 'rmse' ? 'rmseHours' : k === 'intervalMedianWidth' ? 'intervalMedianWidthHours' : k] = v;
  return out;
}

type Entry = VersionRecord['entry'];
type EntryPredictor = Entry['predictors'][number];

async function pickVersion(deps: PullDeps, group: string, version: number | undefined): Promise<RegistryVersion | undefined> {
  if (version !== undefined) return deps.registry.find(group, version);
  return (await deps.registry.list(group)).find((v) => v.approval !== 'Rejected' && v.status === 'Completed');
}

/** Pulls the selected predictors' versions and registers them as one new local version of the asset model. */
export async function pullVersion(deps: PullDeps, o: PullOptions): Promise<PullResult> {
  if (o.version !== undefined && !o.predictor) throw new PullError('--version picks one predictor\'s version: give --predictor too');
  const champion = championOf(o.registryDir, o.assetModel);
  if (!champion) throw new UnknownAssetModelError(`${o.assetModel} has no champion in ${o.registryDir}: import or promote one first (the pulled version is built from its entry)`);
  const predictors = champion.entry.predictors;
  if (o.predictor && !predictors.some((p) => p.name === o.predictor)) {
    throw new PullError(`${champion.id} has no predictor ${o.predictor} (it has ${predictors.map((p) => p.name).join(', ')})`);
  }
  const replaced = new Map<string, { entry: EntryPredictor; bytes: Uint8Array }>();
  const pulled: PulledPredictor[] = [];
  const skipped: { predictor: string; reason: string }[] = [];
  const packages: Extract<VersionRecord['source'], { kind: 'sagemaker' }>['packages'] = [];
  const metrics: Record<string, number> = {};
  const championMetrics: Record<string, number> = {};
  const evalKey: Record<string, unknown>[] = [];
  let created = 0;

  for (const current of predictors) {
    if (o.predictor && current.name !== o.predictor) continue;
    const group = modelPackageGroupName(o.stage, o.assetModel, current.name);
    const picked = await pickVersion(deps, group, o.version);
    if (!picked) {
      if (o.predictor) throw new PullError(`${group} has no version that is Completed and not Rejected`);
      skipped.push({ predictor: current.name, reason: `${group} has no version that is Completed and not Rejected` });
      continue;
    }
    const d = await deps.registry.describe(picked.arn);
    const claimed = d.metadata[METADATA.predictor];
    if ((d.group && d.group !== group) || (claimed !== undefined && claimed !== current.name)) {
      throw new PullError(`${picked.arn} belongs to ${d.group || '?'} (predictor ${claimed ?? '?'}), not to ${group}`);
    }
    const recorded = d.metadata[METADATA.sha256];
    if (recorded === current.sha256) {
      skipped.push({ predictor: current.name, reason: `${group} version ${d.version} is already ${champion.id}'s file` });
      continue;
    }
    if (!d.modelDataUrl) throw new PullError(`${group} version ${d.version} names no ModelDataUrl`);
    const { content } = singleTarFile(gunzipSync(await deps.getObject(d.modelDataUrl)));
    const sha = sha256Hex(content);
    if (recorded && recorded !== sha) throw new PullError(`${d.modelDataUrl}: the model file's sha256 is ${sha}, ${group} version ${d.version} records ${recorded}`);
    // The evaluator's checks (legacy binary, truncation, multi-output…) and the base_score rewrite.
    const gated = gateArtifact(content);
    const bytes = typeof gated.bytes === 'string' ? new TextEncoder().encode(gated.bytes) : gated.bytes;
    const features = (current as { featureNames?: readonly string[] }).featureNames ?? [];
    if (gated.model.numFeatures !== features.length) {
      throw new PullError(`${group} version ${d.version} reads ${gated.model.numFeatures} columns, ${champion.id}'s ${current.name} ${features.length}`);
    }
    if (!d.evaluationUri) throw new PullError(`${group} version ${d.version} has no evaluation (ModelMetrics.ModelQuality.Statistics)`);
    const ev = parseWith(evaluationDocSchema, json(await deps.getObject(d.evaluationUri)), d.evaluationUri);

    const isClassifier = current.kind !== 'rul';
    const { calibration: _c, alertThresholds: _a, threshold: _t, interval: _i, ...kept } = current as EntryPredictor & Record<string, unknown>;
    let decision: Record<string, unknown> = {};
    const decisionUri = d.metadata[METADATA.decision];
    if (decisionUri) {
      const raw = json(await deps.getObject(decisionUri));
      const doc = isClassifier ? parseWith(classifierDecisionSchema, raw, decisionUri) : parseWith(rulDecisionSchema, raw, decisionUri);
      if (doc.sha256 !== sha) throw new PullError(`${decisionUri} was fitted for the model file ${doc.sha256}, ${group} version ${d.version} holds ${sha}`);
      decision = doc.kind === 'rul' ? { interval: doc.interval } : { threshold: doc.threshold, calibration: doc.calibration, alertThresholds: doc.alertThresholds };
    } else if (!isClassifier && current.interval !== undefined) {
      throw new PullError(
        `${group} version ${d.version} carries no RUL interval of its own (no ${METADATA.decision} in its metadata), and ${champion.id}'s was fitted on ` +
          `the old model's residuals: it cannot serve as is. Retrain with the current pipeline, which fits one on a validation slice`,
      );
    } else if (isClassifier && (current.calibration !== undefined || current.alertThresholds !== undefined)) {
      throw new PullError(
        `${group} version ${d.version} carries no calibration or alert thresholds of its own (no ${METADATA.decision} in its metadata), and ${champion.id}'s map ` +
          `the old model's outputs: it cannot serve as is. Retrain with the current pipeline, which fits them on a validation slice`,
      );
    }
    const source = d.metadata[METADATA.source] ?? '';
    const job = ev.trainingJob ?? (source.startsWith('training-job:') ? source.slice('training-job:'.length) : null);
    const file = `${o.assetModel}/${current.name}.ubj`;
    const entry = {
      ...kept,
      file,
      sha256: sha256Hex(bytes),
      objective: gated.model.objective,
      numTrees: gated.model.numTrees,
      ...decision,
      metrics: localMetrics(ev.metrics),
      trainingDataHash: `sagemaker:${job ?? sha}`,
      trainingData:
        `SageMaker ${job ? `training job ${job}` : 'model package'} (${group} version ${d.version}): history rows` +
        `${ev.holdout?.validFrom ? ` before ${ev.holdout.validFrom}` : ''}, labels from repair/replacement messages`,
      trainingRows: ev.holdout?.trainRows ?? 0,
      params: { ...(current.params as Record<string, number | string> | undefined), trainer: 'sagemaker-xgboost-3.0-5', modelPackage: d.arn, ...(job ? { trainingJob: job } : {}) },
    } as EntryPredictor;
    replaced.set(current.name, { entry, bytes });
    for (const [k, v] of Object.entries(localMetrics(ev.metrics))) metrics[`${current.name}.${k}`] = v;
    const comparable = ev.champion?.sha256 === current.sha256;
    if (comparable) for (const [k, v] of Object.entries(localMetrics(ev.champion!.metrics))) championMetrics[`${current.name}.${k}`] = v;
    evalKey.push({ predictor: current.name, arn: d.arn, sha256: sha, holdout: ev.holdout ?? null });
    packages.push({ predictor: current.name, group, version: d.version, arn: d.arn, trainingJob: job, sha256: sha });
    pulled.push({ predictor: current.name, group, version: d.version, file, sha256: entry.sha256, rewroteBaseScore: gated.rewroteBaseScore, comparable });
    created = Math.max(created, d.createdAt.getTime());
  }
  if (replaced.size === 0) return { record: null, pulled, skipped, gate: null };

  const entry: Entry = { ...champion.entry, predictors: predictors.map((p) => replaced.get(p.name)?.entry ?? p) };
  const evaluation: Evaluation = {
    id: evaluationId(o.assetModel, 'aws-held-out', { packages: evalKey }),
    name: 'aws-held-out',
    kind: 'held-out',
    description: `the held-out slice of the retraining run in stage ${o.stage} (${packages.map((p) => `${p.predictor}: ${p.trainingJob ?? p.arn}`).join(', ')}), labels from its repair/replacement messages`,
    metrics,
  };
  const comparedWith: ComparedWith | undefined =
    Object.keys(championMetrics).length > 0 ? { version: champion.id, evaluation: evaluation.id, metrics: championMetrics } : undefined;
  const blobOf = new Map(champion.files.map((f) => [f.file, f.blob]));
  const record = registerVersion(o.registryDir, {
    assetModel: o.assetModel,
    entry: entry as Parameters<typeof registerVersion>[1]['entry'],
    readFile: (file) => {
      const pulledFile = [...replaced.values()].find((r) => r.entry.file === file);
      if (pulledFile) return pulledFile.bytes;
      const blob = blobOf.get(file);
      if (!blob) throw new PullError(`${champion.id} has no file ${file}`);
      return readBlob(o.registryDir, blob);
    },
    featureEngineVersion: champion.featureEngineVersion,
    created: new Date(created).toISOString(),
    source: { kind: 'sagemaker', stage: o.stage, from: champion.id, packages, pulledAt: o.at ?? new Date().toISOString() },
    git: o.git,
    evaluations: [evaluation],
    ...(comparedWith ? { comparedWith } : {}),
  });
  return { record, pulled, skipped, gate: gate(champion, record) };
}
