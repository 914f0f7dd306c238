/** Lambda entry of the retraining evaluation step (lambdas/retrain/app.ts `evaluateTrainedModel`). */
import { evaluateTrainedModel } from './app.ts';
import { bucket, deployedManifest, getObject, putObject, readBundleFile } from './env.ts';

const b = bucket();
const manifest = deployedManifest();

export const handler = (event: unknown) => evaluateTrainedModel(event, { getObject, putObject: putObject(b), bucket: b, manifest, readBundleFile });
