/**
 * SageMaker endpoints for the model bundle, one per predictor. Absent in `in-lambda` scoring mode,
 * where the feature function scores with the model layer only.
 */
import { Stack, type StackProps } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';
import type { ScoringConfig } from '../config.ts';
import { ContradictoryPropsError } from '../constructs/pdm-function.ts';
import { ModelEndpoints } from '../sagemaker/model-endpoints.ts';
import { checkServerlessQuota } from '../sagemaker/quota.ts';

export interface ModelStackProps extends StackProps {
  /** Physical name prefix, e.g. `pdm-dev`. */
  readonly prefix: string;
  /** Scoring settings; `mode` must be `endpoint` or `instance`. */
  readonly scoring: ScoringConfig;
  /** Directory of the model bundle. */
  readonly bundleDir: string;
  /** Key for instance volumes. @default - AWS managed */
  readonly volumeKey?: kms.IKey;
  /** Retention of the endpoints' log groups. @default 30 */
  readonly logRetentionDays?: number;
  /** Whether `cdk destroy` keeps the endpoints' log groups. @default false */
  readonly retainLogs?: boolean;
}

export class ModelStack extends Stack {
  /** `{ "<assetModelId>/<predictor>": "<endpoint name>" }`. */
  public readonly endpoints: Readonly<Record<string, string>>;
  public readonly models: ModelEndpoints;

  constructor(scope: Construct, id: string, props: ModelStackProps) {
    super(scope, id, props);
    const { scoring } = props;
    if (scoring.mode === 'in-lambda') {
      throw new ContradictoryPropsError(`${id}: scoring mode "in-lambda" deploys no endpoints; do not create a ModelStack`);
    }
    this.models = new ModelEndpoints(this, 'Endpoints', {
      prefix: props.prefix,
      bundleDir: props.bundleDir,
      ...(scoring.mode === 'endpoint'
        ? { serverless: { memoryMb: scoring.serverlessMemoryMb, maxConcurrency: scoring.serverlessMaxConcurrency } }
        : { instance: { instanceType: scoring.instanceType, instanceCount: scoring.instanceCount }, volumeKey: props.volumeKey }),
      logRetentionDays: props.logRetentionDays,
      retainLogs: props.retainLogs,
    });
    this.endpoints = this.models.endpoints;
    if (scoring.mode === 'endpoint') {
      checkServerlessQuota(Object.keys(this.endpoints).length, scoring.serverlessMaxConcurrency, scoring.serverlessQuota);
    }
  }
}
