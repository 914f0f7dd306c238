/** Lambda entry of the retraining export step (lambdas/retrain/app.ts `exportTrainingData`). */
import { AthenaClient } from '@aws-sdk/client-athena';
import { AthenaHistoryQuery } from '../adapters/aws/history-athena.ts';
import { exportTrainingData, RETRAIN_ENV } from './app.ts';
import { bucket, deployedManifest, putObject, required } from './env.ts';

const b = bucket();
const engine = new AthenaHistoryQuery(new AthenaClient({}), {
  workgroup: required(RETRAIN_ENV.workgroup),
  database: required(RETRAIN_ENV.database),
  // The function runs up to 15 minutes; a full-history scan of a large fleet takes minutes.
  timeoutMs: 600_000,
});
const manifest = deployedManifest();
const holdoutFraction = Number(process.env[RETRAIN_ENV.holdoutFraction] ?? '0.2');

export const handler = (event: unknown) =>
  exportTrainingData(event, { engine, putObject: putObject(b), bucket: b, stage: required(RETRAIN_ENV.stage), manifest, holdoutFraction });
