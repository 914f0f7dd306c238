/**
 * `pdm models register|approve|versions|pull|check --stage S` (and `rollback M --stage S`, via {@link rollbackStage}): the SageMaker Model Registry of a
 * deployed stage, with the user's credentials. The registry adapter is
 * `lambdas/adapters/aws/model-registry.ts`; this module only turns bundle predictors and command-line
 * options into its calls. Deploying stays the bundle's job: `check` tells whether each group's champion
 * (newest Approved) is the file the bundle ships (docs/deploy.md, "Which model version is deployed").
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { type Command, InvalidArgumentError } from 'commander';
import { METADATA, type RegistryVersion, SageMakerModelRegistry } from '../../lambdas/adapters/aws/model-registry.ts';
import { type BundleManifest, MANIFEST_FILE, parseManifest } from '../../lambdas/core/model/bundle.ts';
import { modelPackageGroupName } from '../../lambdas/core/retrain/names.ts';
import { xgboostImageUri } from '../../lib/sagemaker/images.ts';
import { gitState } from '../registry/git.ts';
import { DEFAULT_REGISTRY_DIR } from '../registry/store.ts';
import { pullVersion } from './models-pull.ts';

/** A predictor or version the command was asked about does not exist. */
export class ModelsCommandError extends Error {
  override readonly name: string = 'ModelsCommandError';
}

export interface BundlePredictorRef {
  readonly assetModel: string;
  readonly predictor: string;
}

/** The bundle's predictors, optionally narrowed to one asset model and/or predictor. */
export function selectPredictors(manifest: BundleManifest, assetModel?: string, predictor?: string): BundlePredictorRef[] {
  const out: BundlePredictorRef[] = [];
  for (const [m, entry] of Object.entries(manifest.models)) {
    if (assetModel && m !== assetModel) continue;
    for (const p of entry.predictors) if (!predictor || p.name === predictor) out.push({ assetModel: m, predictor: p.name });
  }
  if (out.length === 0) throw new ModelsCommandError(`the bundle has no predictor ${assetModel ?? '*'}/${predictor ?? '*'}`);
  return out;
}

export interface RegisterBundleOptions {
  readonly stage: string;
  readonly bucket: string;
  readonly image: string;
  readonly bundleDir: string;
  readonly manifest: BundleManifest;
  readonly ref: BundlePredictorRef;
  /** Our version id, e.g. the local registry's `turbofan@3`. @default `bundle:<first 12 of sha256>` */
  readonly versionId?: string;
  readonly approve: boolean;
}

/**
 * Registers one bundle predictor: uploads its model file (as `model.tar.gz`) and an evaluation JSON of
 * its manifest metrics, creates the version, and approves it when asked. Registering a file whose
 * sha256 the group's champion already has is skipped (idempotent re-runs).
 */
export async function registerBundlePredictor(registry: SageMakerModelRegistry, o: RegisterBundleOptions): Promise<{ version: RegistryVersion; skipped: boolean }> {
  const entry = o.manifest.models[o.ref.assetModel]!.predictors.find((p) => p.name === o.ref.predictor)!;
  const group = modelPackageGroupName(o.stage, o.ref.assetModel, o.ref.predictor);
  const champion = await registry.champion(group);
  if (champion) {
    const d = await registry.describe(champion.arn);
    if (d.metadata[METADATA.sha256] === entry.sha256) return { version: champion, skipped: true };
  }
  const file = new Uint8Array(readFileSync(join(o.bundleDir, entry.file)));
  const evaluation = { schema: 'pdm.evaluation.v1', assetModel: o.ref.assetModel, predictor: o.ref.predictor, source: 'bundle', sha256: entry.sha256, trainingData: entry.trainingData, metrics: entry.metrics };
  const uploaded = await registry.upload(o.bucket, `registry/${group}/${entry.sha256.slice(0, 16)}`, { modelFile: file, evaluation });
  const version = await registry.register({
    group,
    image: o.image,
    modelDataUrl: uploaded.modelDataUrl,
    evaluationUri: uploaded.evaluationUri,
    metrics: entry.metrics,
    versionId: o.versionId ?? `bundle:${entry.sha256.slice(0, 12)}`,
    sha256: entry.sha256,
    assetModel: o.ref.assetModel,
    predictor: o.ref.predictor,
    source: 'bundle',
  });
  if (o.approve) await registry.approve(version.arn, `the bundle's ${entry.file} (${entry.sha256.slice(0, 12)})`);
  return { version: { ...version, approval: o.approve ? 'Approved' : version.approval }, skipped: false };
}

export interface CheckRow extends BundlePredictorRef {
  readonly group: string;
  readonly bundleSha256: string;
  readonly championVersion?: number;
  readonly championSha256?: string;
  readonly ok: boolean;
}

/** Compares each predictor's registry champion with the bundle file. */
export async function checkDeployed(registry: SageMakerModelRegistry, stage: string, manifest: BundleManifest, refs: readonly BundlePredictorRef[]): Promise<CheckRow[]> {
  const rows: CheckRow[] = [];
  for (const ref of refs) {
    const entry = manifest.models[ref.assetModel]!.predictors.find((p) => p.name === ref.predictor)!;
    const group = modelPackageGroupName(stage, ref.assetModel, ref.predictor);
    const champion = await registry.champion(group);
    const sha = champion ? (await registry.describe(champion.arn)).metadata[METADATA.sha256] : undefined;
    rows.push({
      ...ref,
      group,
      bundleSha256: entry.sha256,
      ...(champion ? { championVersion: champion.version } : {}),
      ...(sha ? { championSha256: sha } : {}),
      ok: sha === entry.sha256,
    });
  }
  return rows;
}

interface StageOpts {
  stage: string;
  region?: string;
  assetModel?: string;
  predictor?: string;
  bundle?: string;
  json?: boolean;
}

const out = (line: string) => process.stdout.write(`${line}\n`);

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

function clients(region?: string): { registry: SageMakerModelRegistry; region: string; s3: S3Client } {
  const sm = new SageMakerClient(region ? { region } : {});
  const s3 = new S3Client(region ? { region } : {});
  const registry = new SageMakerModelRegistry(sm, s3);
  return { registry, region: region ?? '', s3 };
}

/** Reads an `s3://bucket/key` object. */
export function s3Reader(s3: S3Client): (uri: string) => Promise<Uint8Array> {
  return async (uri) => {
    const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
    if (!m) throw new ModelsCommandError(`not an s3:// URI: ${uri}`);
    const got = await s3.send(new GetObjectCommand({ Bucket: m[1], Key: m[2] }));
    if (!got.Body) throw new ModelsCommandError(`${uri} has no body`);
    return got.Body.transformToByteArray();
  };
}

function readManifest(dir: string): BundleManifest {
  return parseManifest(readFileSync(join(dir, MANIFEST_FILE), 'utf8'));
}

const common = (cmd: Command): Command =>
  cmd
    .requiredOption('--stage <name>', 'deployed stage (model package groups pdm-<stage>-<asset model>-<predictor>)')
    .option('--region <region>', 'AWS region of the stage (default: your AWS config)')
    .option('--json', 'print JSON');

const one = (cmd: Command): Command => common(cmd).requiredOption('--asset-model <id>', 'asset model, e.g. centrifugal-pump').requiredOption('--predictor <name>', 'predictor, e.g. failure');

export interface StageRollbackOptions {
  readonly stage: string;
  readonly region?: string;
  readonly assetModel: string;
  readonly predictor: string;
  readonly reason: string;
  readonly json?: boolean;
}

/**
 * `pdm models rollback M --stage S --predictor P --reason T` (the local `rollback` command hands over when
 * `--stage` is given): rejects the champion so the newest earlier Approved version serves again.
 */
export async function rollbackStage(o: StageRollbackOptions): Promise<void> {
  const { registry } = clients(o.region);
  const group = modelPackageGroupName(o.stage, o.assetModel, o.predictor);
  const r = await registry.rollback(group, o.reason);
  if (o.json) out(JSON.stringify({ rejected: r.rejected.version, champion: r.champion.version }));
  else out(`${group}: version ${r.rejected.version} rejected; champion is now version ${r.champion.version}`);
}

/** Adds the AWS registry subcommands to `models` (the `pdm models` command, created by the caller). */
export function registerAwsModelCommands(models: Command): void {
  common(models.command('register').description('register the bundle\'s predictors as model package versions (PendingManualApproval, or Approved with --approve)'))
    .requiredOption('--bucket <name>', 'bucket for model archives (the Lifecycle stack output RetrainBucketName)')
    .option('--asset-model <id>', 'only this asset model')
    .option('--predictor <name>', 'only this predictor')
    .option('--bundle <dir>', 'model bundle folder', 'layers/model')
    .option('--version-id <id>', 'our version id to record (e.g. the local registry\'s turbofan@3)')
    .option('--approve', 'approve each registered version: it becomes the champion')
    .action(async (o: StageOpts & { bucket: string; bundle: string; versionId?: string; approve?: boolean }) => {
      const { registry } = clients(o.region);
      const region = o.region ?? (await new SageMakerClient({}).config.region());
      const manifest = readManifest(o.bundle);
      const results = [];
      for (const ref of selectPredictors(manifest, o.assetModel, o.predictor)) {
        const r = await registerBundlePredictor(registry, {
          stage: o.stage,
          bucket: o.bucket,
          image: xgboostImageUri(region),
          bundleDir: o.bundle,
          manifest,
          ref,
          approve: o.approve === true,
          ...(o.versionId ? { versionId: o.versionId } : {}),
        });
        results.push({ ...ref, version: r.version.version, approval: r.version.approval, skipped: r.skipped });
        if (!o.json) out(`${ref.assetModel}/${ref.predictor}: ${r.skipped ? `already the champion (version ${r.version.version})` : `version ${r.version.version} ${r.version.approval}`}`);
      }
      if (o.json) out(JSON.stringify({ registered: results }));
    });

  one(models.command('approve').description('approve a version; the newest Approved version is the champion'))
    .requiredOption('--version <n>', 'SageMaker version number in the group', positiveInt)
    .option('--reason <text>', 'approval description', 'approved with pdm models approve')
    .action(async (o: StageOpts & { version: number; reason: string }) => {
      const { registry } = clients(o.region);
      const group = modelPackageGroupName(o.stage, o.assetModel!, o.predictor!);
      const v = await registry.find(group, o.version);
      const r = await registry.approve(v.arn, o.reason);
      if (o.json) out(JSON.stringify({ approved: r.approved.version, champion: r.champion?.version }));
      else {
        out(`${group}: version ${v.version} approved; champion is version ${r.champion?.version}`);
        if (r.champion?.version !== v.version) out('  a newer version is approved, so it stays the champion (roll back to reject it)');
        out('  deploy it: put its model file into the bundle (layers/model), check with pdm models check, then cdk deploy');
      }
    });

  one(models.command('versions').description('list a predictor\'s versions, newest first, marking the champion')).action(async (o: StageOpts) => {
    const { registry } = clients(o.region);
    const group = modelPackageGroupName(o.stage, o.assetModel!, o.predictor!);
    const versions = await registry.list(group);
    const champion = versions.find((v) => v.approval === 'Approved');
    if (o.json) out(JSON.stringify({ group, champion: champion?.version, versions }));
    else for (const v of versions) out(`${v === champion ? '*' : ' '} ${v.version}\t${v.approval}\t${v.status}\t${v.createdAt.toISOString()}\t${v.description ?? ''}`);
  });

  common(models.command('pull').description('register a stage\'s model package version(s) of an asset model as a new LOCAL version (then diff, promote)'))
    .requiredOption('--asset-model <id>', 'asset model, e.g. centrifugal-pump')
    .option('--predictor <name>', 'only this predictor (default: every predictor with a newer version)')
    .option('--version <n>', 'SageMaker version number in the group (with --predictor; default: the newest not Rejected)', positiveInt)
    .option('--registry <dir>', 'local model registry', DEFAULT_REGISTRY_DIR)
    .action(async (o: StageOpts & { version?: number; registry: string }) => {
      const { registry, s3 } = clients(o.region);
      const r = await pullVersion(
        { registry, getObject: s3Reader(s3) },
        {
          stage: o.stage,
          assetModel: o.assetModel!,
          registryDir: o.registry,
          git: gitState(process.cwd()),
          ...(o.predictor ? { predictor: o.predictor } : {}),
          ...(o.version !== undefined ? { version: o.version } : {}),
        },
      );
      if (o.json) {
        out(JSON.stringify({ id: r.record?.id ?? null, pulled: r.pulled, skipped: r.skipped, gate: r.gate }));
        return;
      }
      for (const s of r.skipped) out(`  ${s.predictor}: not pulled: ${s.reason}`);
      if (!r.record) {
        out('nothing pulled');
        return;
      }
      out(`${r.record.id} registered from ${r.record.source.kind === 'sagemaker' ? r.record.source.from : ''}`);
      for (const p of r.pulled) {
        out(`  ${p.predictor}: ${p.group} version ${p.version} → ${p.file} (${p.sha256.slice(0, 12)})${p.comparable ? '' : '; evaluated against another champion file: its figures are not comparable'}`);
        if (p.rewroteBaseScore) out('    the gate rewrote base_score: the bundle file differs from the package\'s, so register it again (pdm models register --stage) before check');
      }
      out(`  gate: ${r.gate?.pass ? 'pass' : 'refuse'}: ${r.gate?.reason ?? ''}`);
      out(`  next: pdm models diff ${r.record.source.kind === 'sagemaker' ? r.record.source.from : ''} ${r.record.id}; pdm models promote ${r.record.id}; pdm models approve --stage ${o.stage} …; cdk deploy; pdm models check --stage ${o.stage}`);
    });

  common(models.command('check').description('exit 1 unless every bundle predictor\'s champion in the registry is the bundle\'s file (same sha256)'))
    .option('--bundle <dir>', 'model bundle folder', 'layers/model')
    .action(async (o: StageOpts & { bundle: string }) => {
      const { registry } = clients(o.region);
      const manifest = readManifest(o.bundle);
      const rows = await checkDeployed(registry, o.stage, manifest, selectPredictors(manifest));
      if (o.json) out(JSON.stringify({ rows }));
      else for (const r of rows) out(`${r.ok ? 'ok  ' : 'DIFF'} ${r.group}: bundle ${r.bundleSha256.slice(0, 12)}, champion ${r.championVersion ?? 'none'} ${r.championSha256?.slice(0, 12) ?? ''}`);
      if (rows.some((r) => !r.ok)) process.exitCode = 1;
    });
}
