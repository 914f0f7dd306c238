#!/usr/bin/env -S npx tsx
/**
 * The CDK app: reads the stage config from the cdk.json context key `pdm` (or `-c pdm='{…}'`),
 * validates it, builds the stacks and registers cdk-nag. The only place that reads the environment.
 */
import { App } from 'aws-cdk-lib';
import { CONFIG_CONTEXT_KEY, readStageConfig } from '../lib/config.ts';
import { addNagChecks, buildPdmApp } from '../lib/pdm-app.ts';

const app = new App();
const config = readStageConfig(app.node.tryGetContext(CONFIG_CONTEXT_KEY));
buildPdmApp(app, config, {
  env: {
    account: config.account ?? process.env.CDK_DEFAULT_ACCOUNT,
    // The XGBoost image is per region, so the app always synthesises for a concrete region.
    region: config.region ?? process.env.CDK_DEFAULT_REGION ?? 'us-east-1',
  },
});
addNagChecks(app);
app.synth();
