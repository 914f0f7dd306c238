/** Builds the stage's stacks for tests: one app per call, concrete account and region, no nag. */
import { App } from 'aws-cdk-lib';
import { parseStageConfig } from '../../lib/config.ts';
import { buildPdmApp, type PdmStacks } from '../../lib/pdm-app.ts';

export const TEST_ENV = { account: '123456789012', region: 'eu-west-1' } as const;

/** Serverless endpoint scoring in an account whose quotas were raised to fit the bundle's 9 endpoints. */
export const ENDPOINT_SCORING = { mode: 'endpoint', serverlessQuota: { maxEndpoints: 50, maxTotalConcurrency: 500 } } as const;

export function buildTestApp(rawConfig: unknown = {}): { app: App; stacks: PdmStacks } {
  const app = new App();
  const stacks = buildPdmApp(app, parseStageConfig(rawConfig), { env: TEST_ENV });
  return { app, stacks };
}
