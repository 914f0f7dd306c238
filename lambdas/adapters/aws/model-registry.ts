/**
 * SageMaker Model Registry behind a narrow port: register a version of one predictor (its model file
 * and evaluation as plain data, or their S3 URIs when a training job already wrote them), approve it,
 * list the versions, find the champion, roll back. Used by the retraining pipeline's register
 * function and by `pdm models register|approve|rollback|versions --stage`.
 *
 * Champion rule: the newest **Approved** version by CreationTime. Approving a version leaves older
 * approved versions Approved: they are the rollback candidates. Rolling back sets the champion to
 * Rejected, so the newest Approved version created before it becomes the champion again ("previous"
 * = by CreationTime, not by who was champion last). Facts relied on (notes/lifecycle-and-provisioning.md §1):
 * ListModelPackages sorts by CreationTime **Ascending** by default, so the order is always asked for
 * explicitly; a versioned package takes ModelPackageGroupName and no ModelPackageName; creation is
 * asynchronous (`ModelPackageStatus` Pending → InProgress → Completed | Failed); only Approved
 * versions may be deployed; scalars go in CustomerMetadataProperties (a string map), files in ModelMetrics.
 */
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  CreateModelPackageCommand,
  DescribeModelPackageCommand,
  type DescribeModelPackageCommandOutput,
  ListModelPackagesCommand,
  type ListModelPackagesCommandOutput,
  type ModelApprovalStatus,
  type SageMakerClient,
  UpdateModelPackageCommand,
} from '@aws-sdk/client-sagemaker';
import type { MetricMap } from '../../core/retrain/gate-metrics.ts';
import { ustarSingleFile } from '../../core/model/tar.ts';
import { realSleep } from '../retry.ts';

/** The file name the built-in XGBoost container loads from a model archive. */
export const MODEL_FILE_NAME = 'xgboost-model';

/** CustomerMetadataProperties keys written by us; metrics go under `metric.<name>`. */
export const METADATA = {
  versionId: 'pdm.version',
  sha256: 'pdm.sha256',
  assetModel: 'pdm.assetModel',
  predictor: 'pdm.predictor',
  source: 'pdm.source',
  /** S3 URI of the version's own calibration and alert thresholds (a retrained classifier's decision JSON). */
  decision: 'pdm.decision',
  /** The same thresholds, compact: `{"watch":…,"warning":…,"critical":…}`. */
  alertThresholds: 'pdm.alertThresholds',
  xgboost: 'xgboost',
  metricPrefix: 'metric.',
} as const;

export interface RegistryVersion {
  readonly arn: string;
  readonly group: string;
  /** SageMaker's version number within the group (1, 2, …). */
  readonly version: number;
  readonly approval: ModelApprovalStatus | 'Unknown';
  /** `Pending | InProgress | Completed | Failed | Deleting`. */
  readonly status: string;
  readonly createdAt: Date;
  readonly description?: string;
}

export interface RegisterInput {
  readonly group: string;
  /** Built-in XGBoost image URI (lib/sagemaker/images.ts) the version is served with. */
  readonly image: string;
  /** `s3://…/model.tar.gz` holding one file `xgboost-model`. */
  readonly modelDataUrl: string;
  /** `s3://…/evaluation.json`. */
  readonly evaluationUri: string;
  readonly metrics: MetricMap;
  /** Our version id: a local registry id (`turbofan@3`), a bundle file, or a training job. */
  readonly versionId: string;
  /** sha256 of the model file inside the archive (what the bundle manifest records). */
  readonly sha256: string;
  readonly assetModel: string;
  readonly predictor: string;
  /** Where the version came from, e.g. `bundle` or `training-job:<name>`. */
  readonly source: string;
  readonly description?: string;
  /** `s3://…/<job>.decision.json`: the calibration and thresholds fitted for this model file. */
  readonly decisionUri?: string;
  readonly alertThresholds?: { readonly watch: number; readonly warning: number; readonly critical: number };
}

/** A version's files as plain data, for `upload`. */
export interface VersionFiles {
  readonly modelFile: Uint8Array;
  /** The evaluation document (metrics, holdout, champion comparison); written as JSON. */
  readonly evaluation: unknown;
}

export interface ModelRegistryOptions {
  /** First delay between DescribeModelPackage polls, ms (doubles up to 5 s). @default 500 */
  readonly pollMs?: number;
  /** Give up waiting for `Completed` after this long, ms. @default 300000 */
  readonly timeoutMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
}

export class ModelRegistryError extends Error {
  override readonly name: string = 'ModelRegistryError';
}

/** The version ended `Failed`, or did not reach `Completed` in time. */
export class ModelPackageNotReadyError extends Error {
  override readonly name: string = 'ModelPackageNotReadyError';
}

/** Nothing to roll back to: no Approved version older than the champion. */
export class RollbackError extends Error {
  override readonly name: string = 'RollbackError';
}

/** CustomerMetadataProperties allow 50 entries, keys ≤ 128 and values ≤ 256 characters (CreateModelPackage API reference). */
const MAX_METADATA = 50;

/** Metric values as text that parses back to the same number. */
const metricText = (v: number): string => (Number.isFinite(v) ? String(v) : 'NaN');

export function metadataFor(input: RegisterInput): Record<string, string> {
  const md: Record<string, string> = {
    [METADATA.versionId]: input.versionId,
    [METADATA.sha256]: input.sha256,
    [METADATA.assetModel]: input.assetModel,
    [METADATA.predictor]: input.predictor,
    [METADATA.source]: input.source,
    // The image tag 3.0-5 pins xgboost 3.0.5 (sagemaker-xgboost-container docker/3.0-5).
    [METADATA.xgboost]: '3.0.5',
  };
  if (input.decisionUri) md[METADATA.decision] = input.decisionUri;
  if (input.alertThresholds) {
    const t = input.alertThresholds;
    md[METADATA.alertThresholds] = JSON.stringify({ watch: t.watch, warning: t.warning, critical: t.critical });
  }
  for (const [k, v] of Object.entries(input.metrics)) md[`${METADATA.metricPrefix}${k}`] = metricText(v);
  if (Object.keys(md).length > MAX_METADATA) throw new ModelRegistryError(`${Object.keys(md).length} metadata entries exceed SageMaker's ${MAX_METADATA}`);
  for (const [k, v] of Object.entries(md)) {
    if (k.length > 128 || v.length > 256) throw new ModelRegistryError(`metadata ${k} is too long for CustomerMetadataProperties (key ≤ 128, value ≤ 256)`);
  }
  return md;
}

/** Metrics back from a version's CustomerMetadataProperties. */
export function metricsOf(metadata: Readonly<Record<string, string>> | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(metadata ?? {})) if (k.startsWith(METADATA.metricPrefix)) out[k.slice(METADATA.metricPrefix.length)] = Number(v);
  return out;
}

const s3Uri = (bucket: string, key: string) => `s3://${bucket}/${key}`;

export class SageMakerModelRegistry {
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    private readonly sagemaker: SageMakerClient,
    private readonly s3?: S3Client,
    private readonly options: ModelRegistryOptions = {},
  ) {
    this.sleep = options.sleep ?? realSleep;
  }

  /**
   * Writes `<prefix>/model.tar.gz` (one file `xgboost-model`) and `<prefix>/evaluation.json`.
   * The bucket's default encryption applies (the retraining bucket's SSE-KMS key).
   */
  async upload(bucket: string, prefix: string, files: VersionFiles): Promise<{ modelDataUrl: string; evaluationUri: string; sha256: string }> {
    if (!this.s3) throw new ModelRegistryError('upload needs an S3 client');
    const base = prefix.replace(/\/+$/, '');
    const modelKey = `${base}/model.tar.gz`;
    const evalKey = `${base}/evaluation.json`;
    await this.s3.send(new PutObjectCommand({ Bucket: bucket, Key: modelKey, Body: gzipSync(ustarSingleFile(MODEL_FILE_NAME, files.modelFile)), ContentType: 'application/gzip' }));
    await this.s3.send(new PutObjectCommand({ Bucket: bucket, Key: evalKey, Body: JSON.stringify(files.evaluation, null, 2), ContentType: 'application/json' }));
    return { modelDataUrl: s3Uri(bucket, modelKey), evaluationUri: s3Uri(bucket, evalKey), sha256: createHash('sha256').update(files.modelFile).digest('hex') };
  }

  /** Creates the version, PendingManualApproval, and waits until SageMaker reports it `Completed`. */
  async register(input: RegisterInput): Promise<RegistryVersion> {
    const out = await this.sagemaker.send(
      new CreateModelPackageCommand({
        // Versioned package: the group only; with a ModelPackageName too SageMaker answers ValidationException.
        ModelPackageGroupName: input.group,
        ModelPackageDescription: (input.description ?? `${input.assetModel}/${input.predictor} ${input.versionId}`).slice(0, 1024),
        InferenceSpecification: {
          Containers: [{ Image: input.image, ModelDataUrl: input.modelDataUrl }],
          SupportedContentTypes: ['text/csv'],
          SupportedResponseMIMETypes: ['text/csv'],
        },
        ModelMetrics: { ModelQuality: { Statistics: { ContentType: 'application/json', S3Uri: input.evaluationUri } } },
        CustomerMetadataProperties: metadataFor(input),
        ModelApprovalStatus: 'PendingManualApproval',
      }),
    );
    if (!out.ModelPackageArn) throw new ModelRegistryError(`CreateModelPackage in ${input.group} returned no ARN`);
    return this.waitUntilCompleted(out.ModelPackageArn);
  }

  /**
   * One version with its metadata, and where its files are: the first container's `ModelDataUrl` and
   * the `ModelMetrics.ModelQuality.Statistics` evaluation JSON (as `register` wrote them).
   */
  async describe(arn: string): Promise<RegistryVersion & { readonly metadata: Readonly<Record<string, string>>; readonly modelDataUrl?: string; readonly evaluationUri?: string }> {
    const d: DescribeModelPackageCommandOutput = await this.sagemaker.send(new DescribeModelPackageCommand({ ModelPackageName: arn }));
    return {
      arn: d.ModelPackageArn ?? arn,
      group: d.ModelPackageGroupName ?? '',
      version: d.ModelPackageVersion ?? 0,
      approval: d.ModelApprovalStatus ?? 'Unknown',
      status: d.ModelPackageStatus ?? 'Unknown',
      createdAt: d.CreationTime ?? new Date(0),
      ...(d.ModelPackageDescription ? { description: d.ModelPackageDescription } : {}),
      metadata: d.CustomerMetadataProperties ?? {},
      ...(d.InferenceSpecification?.Containers?.[0]?.ModelDataUrl ? { modelDataUrl: d.InferenceSpecification.Containers[0].ModelDataUrl } : {}),
      ...(d.ModelMetrics?.ModelQuality?.Statistics?.S3Uri ? { evaluationUri: d.ModelMetrics.ModelQuality.Statistics.S3Uri } : {}),
    };
  }

  /** Polls until `Completed`. @throws ModelPackageNotReadyError on `Failed` or after `timeoutMs`. */
  async waitUntilCompleted(arn: string): Promise<RegistryVersion> {
    const timeout = this.options.timeoutMs ?? 300_000;
    let delay = this.options.pollMs ?? 500;
    let waited = 0;
    for (;;) {
      const v = await this.describe(arn);
      if (v.status === 'Completed') return v;
      if (v.status === 'Failed' || v.status === 'Deleting') throw new ModelPackageNotReadyError(`model package ${arn} is ${v.status}`);
      if (waited >= timeout) throw new ModelPackageNotReadyError(`model package ${arn} still ${v.status} after ${waited} ms`);
      await this.sleep(delay);
      waited += delay;
      delay = Math.min(5_000, delay * 2);
    }
  }

  /** Every version of the group, newest first (all pages). */
  async list(group: string, approval?: ModelApprovalStatus): Promise<RegistryVersion[]> {
    const versions: RegistryVersion[] = [];
    let token: string | undefined;
    do {
      const page: ListModelPackagesCommandOutput = await this.sagemaker.send(
        new ListModelPackagesCommand({
          ModelPackageGroupName: group,
          ModelPackageType: 'Versioned',
          ...(approval ? { ModelApprovalStatus: approval } : {}),
          // The default is CreationTime Ascending: without this the first item is the oldest version.
          SortBy: 'CreationTime',
          SortOrder: 'Descending',
          MaxResults: 100,
          ...(token ? { NextToken: token } : {}),
        }),
      );
      for (const s of page.ModelPackageSummaryList ?? []) {
        versions.push({
          arn: s.ModelPackageArn ?? '',
          group: s.ModelPackageGroupName ?? group,
          version: s.ModelPackageVersion ?? 0,
          approval: s.ModelApprovalStatus ?? 'Unknown',
          status: s.ModelPackageStatus ?? 'Unknown',
          createdAt: s.CreationTime ?? new Date(0),
          ...(s.ModelPackageDescription ? { description: s.ModelPackageDescription } : {}),
        });
      }
      token = page.NextToken;
    } while (token);
    // Sorted here too, so the rule does not rest on the service honouring SortOrder across pages.
    return versions.sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || b.version - a.version);
  }

  /** The newest Approved version, or undefined when none is approved. */
  async champion(group: string): Promise<RegistryVersion | undefined> {
    return (await this.list(group, 'Approved'))[0];
  }

  /** The version with SageMaker version number `version` in `group`. @throws ModelRegistryError if absent. */
  async find(group: string, version: number): Promise<RegistryVersion> {
    const v = (await this.list(group)).find((x) => x.version === version);
    if (!v) throw new ModelRegistryError(`${group} has no version ${version}`);
    return v;
  }

  /**
   * Approves a version. Older approved versions stay Approved (rollback candidates).
   * @returns the group's champion afterwards: the approved version unless a newer one is approved.
   */
  async approve(arn: string, description: string): Promise<{ approved: RegistryVersion; champion: RegistryVersion | undefined }> {
    const v = await this.describe(arn);
    if (v.status !== 'Completed') throw new ModelPackageNotReadyError(`model package ${arn} is ${v.status}; only a Completed version can be approved`);
    await this.setApproval(arn, 'Approved', description);
    return { approved: { ...v, approval: 'Approved' }, champion: await this.champion(v.group) };
  }

  async reject(arn: string, description: string): Promise<void> {
    await this.setApproval(arn, 'Rejected', description);
  }

  /**
   * Rejects the champion so the newest Approved version created before it serves again.
   * @throws RollbackError when nothing is approved or the champion is the only approved version.
   */
  async rollback(group: string, reason: string): Promise<{ rejected: RegistryVersion; champion: RegistryVersion }> {
    const approved = await this.list(group, 'Approved');
    const [current, previous] = approved;
    if (!current) throw new RollbackError(`${group} has no approved version to roll back from`);
    if (!previous) throw new RollbackError(`${group} has one approved version (${current.version}); there is no earlier approved version to return to`);
    await this.setApproval(current.arn, 'Rejected', `rolled back: ${reason}`);
    return { rejected: { ...current, approval: 'Rejected' }, champion: previous };
  }

  private async setApproval(arn: string, status: ModelApprovalStatus, description: string): Promise<void> {
    await this.sagemaker.send(new UpdateModelPackageCommand({ ModelPackageArn: arn, ModelApprovalStatus: status, ApprovalDescription: description.slice(0, 1000) }));
  }
}
