/** Lambda entry of the retraining register step (lambdas/retrain/app.ts `registerVersion`). */
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { SageMakerModelRegistry } from '../adapters/aws/model-registry.ts';
import { RETRAIN_ENV, registerVersion } from './app.ts';
import { required } from './env.ts';

// Polls DescribeModelPackage until Completed; the function's timeout (5 min) bounds the wait.
const registry = new SageMakerModelRegistry(new SageMakerClient({}), undefined, { timeoutMs: 240_000 });
const image = required(RETRAIN_ENV.image);
const autoPromote = process.env[RETRAIN_ENV.autoPromote] === 'true';

export const handler = (event: unknown) => registerVersion(event, { registry, image, autoPromote });
