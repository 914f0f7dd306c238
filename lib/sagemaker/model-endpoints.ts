/**
 * One SageMaker model and endpoint per predictor of the model bundle, served by the built-in XGBoost
 * container. Each predictor's file is packed at synth into its own `model.tar.gz` holding exactly one
 * file, because the container averages every file it finds (ensemble mode is on by default).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Asset } from 'aws-cdk-lib/aws-s3-assets';
import * as sagemaker from 'aws-cdk-lib/aws-sagemaker';
import { Construct } from 'constructs';
import { type BundleManifest, parseManifest } from '../../lambdas/core/model/bundle.ts';
import { ContradictoryPropsError } from '../constructs/pdm-function.ts';
import { allowWildcards, KMS_GRANT_ALLOWANCES } from '../nag.ts';
import { xgboostImageUri } from './images.ts';
import { singleFileTarGz } from './tar.ts';

/** The file name inside each model.tar.gz (the name the container's own training writes). */
export const MODEL_FILE_NAME = 'xgboost-model';

export class ModelBundleIntegrityError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelBundleIntegrityError';
  }
}

export interface ServerlessVariant {
  /** Memory in MB: 1024–6144 in steps of 1024. */
  readonly memoryMb: number;
  /** Max concurrent invocations per endpoint. */
  readonly maxConcurrency: number;
}

export interface InstanceVariant {
  /** e.g. `ml.m5.large`. */
  readonly instanceType: string;
  readonly instanceCount: number;
}

export interface ModelEndpointsProps {
  /** Physical name prefix, e.g. `pdm-dev`. */
  readonly prefix: string;
  /** Directory of the model bundle (holding `manifest.json`). */
  readonly bundleDir: string;
  /** Serverless endpoints. Exactly one of `serverless` and `instance`. @default - none */
  readonly serverless?: ServerlessVariant;
  /** Instance-backed endpoints. Exactly one of `serverless` and `instance`. @default - none */
  readonly instance?: InstanceVariant;
  /** Key for the volumes of instance-backed endpoints (serverless endpoints accept no key). @default - AWS managed */
  readonly volumeKey?: kms.IKey;
  /** Directory for the built archives. @default a folder under the OS temp dir */
  readonly outDir?: string;
  /** Retention of each endpoint's log group (a CloudWatch Logs retention value). @default 30 */
  readonly logRetentionDays?: number;
  /** Keep the log groups on `cdk destroy`. @default false */
  readonly retainLogs?: boolean;
}

/** Endpoint names are `[a-zA-Z0-9-]`, at most 63 characters; long names keep a hash suffix to stay unique. */
export function endpointName(prefix: string, assetModel: string, predictor: string): string {
  const raw = `${prefix}-${assetModel}-${predictor}`.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/-+/g, '-');
  if (raw.length <= 63) return raw;
  const hash = createHash('sha256').update(raw).digest('hex').slice(0, 8);
  return `${raw.slice(0, 54).replace(/-$/, '')}-${hash}`;
}

export class ModelEndpoints extends Construct {
  /** `{ "<assetModelId>/<predictor>": "<endpoint name>" }`, the value of `PDM_ENDPOINTS`. */
  public readonly endpoints: Readonly<Record<string, string>>;
  public readonly manifest: BundleManifest;
  /** The endpoint resources, for alarms. */
  public readonly endpointResources: readonly sagemaker.CfnEndpoint[];

  constructor(scope: Construct, id: string, props: ModelEndpointsProps) {
    super(scope, id);
    if ((props.serverless === undefined) === (props.instance === undefined)) {
      throw new ContradictoryPropsError(`${id}: give exactly one of "serverless" and "instance"`);
    }
    const region = Stack.of(this).region;
    if (Token.isUnresolved(region)) {
      throw new ContradictoryPropsError(`${id}: the stack needs a concrete region to pick the XGBoost image; set pdm.region or CDK_DEFAULT_REGION`);
    }
    const image = xgboostImageUri(region);
    const bundleDir = resolve(props.bundleDir);
    this.manifest = parseManifest(readFileSync(join(bundleDir, 'manifest.json'), 'utf8'));
    const outDir = props.outDir ?? join(tmpdir(), 'pdm-model-data');

    const role = new iam.Role(this, 'ExecutionRole', {
      assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com'),
      description: 'Lets the PdM endpoints read their model data and write their logs',
    });

    const endpoints: Record<string, string> = {};
    const endpointResources: sagemaker.CfnEndpoint[] = [];
    for (const [assetModel, entry] of Object.entries(this.manifest.models)) {
      for (const predictor of entry.predictors) {
        const content = readFileSync(join(bundleDir, predictor.file));
        const digest = createHash('sha256').update(content).digest('hex');
        if (digest !== predictor.sha256) {
          throw new ModelBundleIntegrityError(`${predictor.file}: sha256 ${digest} does not match the manifest's ${predictor.sha256}`);
        }
        const key = `${assetModel}/${predictor.name}`;
        const name = endpointName(props.prefix, assetModel, predictor.name);
        const cid = `${assetModel}-${predictor.name}`.replace(/[^A-Za-z0-9]/g, '');
        const archiveDir = join(outDir, predictor.sha256);
        mkdirSync(archiveDir, { recursive: true });
        const archive = join(archiveDir, 'model.tar.gz');
        writeFileSync(archive, singleFileTarGz(MODEL_FILE_NAME, content));
        const asset = new Asset(this, `${cid}Data`, { path: archive });
        // Exactly this object, not the whole bootstrap bucket that asset.grantRead() would open.
        role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [asset.bucket.arnForObjects(asset.s3ObjectKey)] }));

        const model = new sagemaker.CfnModel(this, `${cid}Model`, {
          executionRoleArn: role.roleArn,
          primaryContainer: { image, modelDataUrl: asset.s3ObjectUrl, mode: 'SingleModel' },
        });
        model.node.addDependency(role);
        const variant: sagemaker.CfnEndpointConfig.ProductionVariantProperty = props.serverless
          ? {
              variantName: 'AllTraffic',
              modelName: model.attrModelName,
              serverlessConfig: { memorySizeInMb: props.serverless.memoryMb, maxConcurrency: props.serverless.maxConcurrency },
            }
          : {
              variantName: 'AllTraffic',
              modelName: model.attrModelName,
              initialVariantWeight: 1,
              instanceType: props.instance!.instanceType,
              initialInstanceCount: props.instance!.instanceCount,
            };
        const config = new sagemaker.CfnEndpointConfig(this, `${cid}Config`, {
          productionVariants: [variant],
          // Volume encryption applies to instance-backed variants only; serverless ones reject a key.
          kmsKeyId: props.instance && props.volumeKey ? props.volumeKey.keyArn : undefined,
        });
        // SageMaker would create /aws/sagemaker/Endpoints/<name> itself, with no expiry; owning it sets a
        // retention and lets the role write to exactly this group.
        const logGroup = new logs.LogGroup(this, `${cid}Logs`, {
          logGroupName: `/aws/sagemaker/Endpoints/${name}`,
          retention: (props.logRetentionDays ?? 30) as logs.RetentionDays,
          removalPolicy: props.retainLogs ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
        });
        role.addToPrincipalPolicy(
          new iam.PolicyStatement({
            actions: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
            resources: [logGroup.logGroupArn],
          }),
        );
        const endpoint = new sagemaker.CfnEndpoint(this, `${cid}Endpoint`, {
          endpointName: name,
          endpointConfigName: config.attrEndpointConfigName,
        });
        endpoint.node.addDependency(logGroup);
        endpoints[key] = name;
        endpointResources.push(endpoint);
      }
    }
    if (props.instance && props.volumeKey) props.volumeKey.grantEncryptDecrypt(role);
    this.endpoints = endpoints;
    this.endpointResources = endpointResources;
    allowWildcards(role, KMS_GRANT_ALLOWANCES);
  }
}
