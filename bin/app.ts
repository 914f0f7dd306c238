#!/usr/bin/env -S npx tsx
/**
 * The CDK app: reads the stage config from the cdk.json context key `pdm`, with `-c pdm='{…}'`
 * deep-merged onto it, validates it, builds the stacks and registers cdk-nag. The only place that
 * reads the environment.
 */
import { existsSync, readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import { CONFIG_CONTEXT_KEY, readStageConfig } from '../lib/config.ts';
import { addNagChecks, buildPdmApp } from '../lib/pdm-app.ts';

/** The `pdm` object of ./cdk.json: a command-line `-c pdm=…` replaces it in the context, so it is read here to merge onto. */
function cdkJsonStageConfig(): unknown {
  if (!existsSync('cdk.json')) return undefined;
  const json = JSON.parse(readFileSync('cdk.json', 'utf8')) as { context?: Record<string, unknown> };
  return json.context?.[CONFIG_CONTEXT_KEY];
}

const app = new App();
const config = readStageConfig(app.node.tryGetContext(CONFIG_CONTEXT_KEY), cdkJsonStageConfig());
buildPdmApp(app, config, {
  env: {
    account: config.account ?? process.env.CDK_DEFAULT_ACCOUNT,
    // The XGBoost image is per region, so the app always synthesises for a concrete region.
    region: config.region ?? process.env.CDK_DEFAULT_REGION ?? 'us-east-1',
  },
});
addNagChecks(app);
app.synth();
