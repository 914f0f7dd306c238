/**
 * Wires the stacks of one stage from the validated config. `bin/app.ts` calls it for the real app;
 * tests call it to synthesise the same graph.
 */
import { resolve } from 'node:path';
import type { App, Environment } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { Validations } from 'aws-cdk-lib';
import type { StageConfig } from './config.ts';
import { PROJECT_ROOT } from './constructs/pdm-function.ts';
import { AlertingStack } from './stacks/alerting-stack.ts';
import { HistoryStack } from './stacks/history-stack.ts';
import { ENV } from '../lambdas/core/config/env.ts';
import { IngestStack } from './stacks/ingest-stack.ts';
import { LifecycleStack } from './stacks/lifecycle-stack.ts';
import { ModelStack } from './stacks/model-stack.ts';
import { ObservabilityStack } from './stacks/observability-stack.ts';
import { ProcessingStack } from './stacks/processing-stack.ts';
import { StatefulStack } from './stacks/stateful-stack.ts';

export interface PdmStacks {
  readonly stateful: StatefulStack;
  readonly ingest: IngestStack;
  readonly model: ModelStack | undefined;
  readonly processing: ProcessingStack;
  readonly alerting: AlertingStack;
  readonly observability: ObservabilityStack;
  readonly history: HistoryStack;
  readonly lifecycle: LifecycleStack;
}

export interface BuildOptions {
  /** Account and region of every stack. */
  readonly env: Environment;
  /** Model bundle directory. @default `<project>/layers/model` */
  readonly bundleDir?: string;
  /** The `layers` directory whose `model/` folder is the bundle the lifecycle stack registers and compares with. @default `<project>/layers` */
  readonly layersDir?: string;
}

/** Creates the stage's stacks in `app`. */
export function buildPdmApp(app: App, config: StageConfig, options: BuildOptions): PdmStacks {
  const prefix = `pdm-${config.stage}`;
  const stackName = (s: string) => `Pdm-${config.stage}-${s}`;
  const env = options.env;
  const common = { env, tags: { project: 'pdm-twin', stage: config.stage } };

  const stateful = new StatefulStack(app, stackName('Stateful'), { ...common, config, terminationProtection: config.dataRemovalPolicy === 'retain' });
  const ingest = new IngestStack(app, stackName('Ingest'), {
    ...common,
    stage: config.stage,
    rawStream: stateful.rawStream,
    ruleErrorsBucket: stateful.ruleErrorsBucket,
    basicIngest: config.ingest.basicIngest,
    fleetByClaim: config.provisioning.fleetByClaim,
  });
  const model =
    config.scoring.mode === 'in-lambda'
      ? undefined
      : new ModelStack(app, stackName('Model'), {
          ...common,
          prefix,
          scoring: config.scoring,
          bundleDir: options.bundleDir ?? resolve(PROJECT_ROOT, 'layers', 'model'),
          volumeKey: stateful.key,
          logRetentionDays: config.logRetentionDays,
          retainLogs: config.dataRemovalPolicy === 'retain',
        });
  const processing = new ProcessingStack(app, stackName('Processing'), {
    ...common,
    config,
    rawStream: stateful.rawStream,
    cleanStream: stateful.cleanStream,
    assetsTable: stateful.assetsTable,
    twinsTable: stateful.twinsTable,
    driftTable: stateful.driftTable,
    quarantineBucket: stateful.quarantineBucket,
    bus: stateful.bus,
    cleanDlq: stateful.cleanDlq,
    featuresDlq: stateful.featuresDlq,
    opsTopic: stateful.opsTopic,
    timestream: stateful.timestream,
    endpoints: model?.endpoints,
  });
  // History (Firehose → Iceberg, Athena): the functions get the stream names (plain strings) and the
  // writer policy, so the history stack deploys before the processing stack and never after it.
  const history = new HistoryStack(app, stackName('History'), {
    ...common,
    stage: config.stage,
    dataRemovalPolicy: config.dataRemovalPolicy,
    accessLogsBucket: stateful.accessLogsBucket,
    twinsTable: stateful.twinsTable,
    key: stateful.key,
  });
  for (const fn of [processing.clean, processing.features]) {
    fn.setEnv(ENV.historyStreams, history.streamsEnv);
    fn.function.role!.addManagedPolicy(history.writerPolicy);
  }
  // Endpoint names are plain strings (no cross-stack token), so order the deployment explicitly.
  if (model) processing.addStackDependency(model, 'the feature function invokes the endpoints');
  const alerting = new AlertingStack(app, stackName('Alerting'), {
    ...common,
    config,
    bus: stateful.bus,
    criticalTopic: stateful.criticalTopic,
    warningTopic: stateful.warningTopic,
    opsTopic: stateful.opsTopic,
  });
  const observability = new ObservabilityStack(app, stackName('Observability'), {
    ...common,
    prefix,
    opsTopic: stateful.opsTopic,
    functions: { Clean: processing.clean.function, Features: processing.features.function },
    streams: [stateful.rawStream, stateful.cleanStream],
    dlqs: { CleanDlq: stateful.cleanDlq, FeaturesDlq: stateful.featuresDlq, RulesDlq: alerting.rulesDlq },
    endpoints: model?.endpoints,
    iteratorAgeAlarms: processing.iteratorAgeAlarms,
    topicRuleNames: Object.values(ingest.rules).map((r) => r.ruleName!),
    ruleErrorsBucket: stateful.ruleErrorsBucket,
  });
  // Registry, drift alarms and retraining; the models it trains reach the functions only through the bundle.
  const lifecycle = new LifecycleStack(app, stackName('Lifecycle'), {
    ...common,
    stage: config.stage,
    retraining: config.retraining,
    layersDir: options.layersDir ?? resolve(PROJECT_ROOT, 'layers'),
    opsTopic: stateful.opsTopic,
    opsTopicKey: stateful.key,
    historyKey: history.key,
    warehouse: history.warehouse,
    athenaResults: history.results,
    accessLogsBucket: stateful.accessLogsBucket,
    logRetentionDays: config.logRetentionDays,
    dataRemovalPolicy: config.dataRemovalPolicy,
  });
  return { stateful, ingest, model, processing, alerting, observability, history, lifecycle };
}

/** Registers the cdk-nag packs (AwsSolutions and Serverless) as validation plugins. */
export function addNagChecks(app: App): void {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
}
