/**
 * The model lifecycle in AWS: one SageMaker model package group per predictor of the bundle (the
 * registry), one drift alarm per asset model on `pdm/FeatureDriftPsi`, and the retraining state
 * machine that an alarm, an optional schedule or a manual StartExecution starts:
 *
 *   Export (λ: history → train/validation/holdout CSV per predictor, via Athena)
 *   → Map over predictors { Train (SageMaker built-in XGBoost 3.0-5, .sync) → Evaluate (λ) → Register (λ) }
 *   → Notify (ops topic)
 *
 * Nothing is approved unless `retraining.autoPromote` is on and the gate passes. Deploying stays the
 * bundle's job (docs/deploy.md, "Which model version is deployed"). At rest the stack costs only its
 * alarms; a run costs its training jobs and a few state transitions (docs/cost.md).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Aws, CfnOutput, Duration, RemovalPolicy, Size, Stack, type StackProps, Token, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sagemaker from 'aws-cdk-lib/aws-sagemaker';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import { historyNames } from '../../lambdas/core/history/names.ts';
import { parseManifest, MANIFEST_FILE, type BundleManifest } from '../../lambdas/core/model/bundle.ts';
import { modelPackageGroupName } from '../../lambdas/core/retrain/names.ts';
import { HYPERPARAMETER_KEYS } from '../../lambdas/core/retrain/plan.ts';
import { RETRAIN_ENV, RETRAIN_PREFIX } from '../../lambdas/retrain/app.ts';
import type { RetrainingConfig } from '../config.ts';
import { ContradictoryPropsError, PDM_RUNTIME, PdmFunction } from '../constructs/pdm-function.ts';
import { DRIFT_DATAPOINTS, DRIFT_METRIC, driftAlarmName } from '../drift.ts';
import { allowWildcards, KMS_GRANT_ALLOWANCES } from '../nag.ts';
import { XGBOOST_REGISTRY_ACCOUNTS, xgboostImageUri } from '../sagemaker/images.ts';

export interface LifecycleStackProps extends StackProps {
  readonly stage: string;
  readonly retraining: RetrainingConfig;
  /** The `layers` directory whose `model/` folder is the deployed bundle. */
  readonly layersDir: string;
  /** The ops topic: drift alarms and run notifications. */
  readonly opsTopic: sns.ITopic;
  /** The key the ops topic is encrypted with (the state machine publishes to it). */
  readonly opsTopicKey: kms.IKey;
  /** History: the tables' bucket, the Athena results bucket and their key (which also encrypts retraining data). */
  readonly historyKey: kms.IKey;
  readonly warehouse: s3.IBucket;
  readonly athenaResults: s3.IBucket;
  /** Server access logs of the retraining bucket. */
  readonly accessLogsBucket: s3.IBucket;
  readonly logRetentionDays: number;
  readonly dataRemovalPolicy: 'retain' | 'destroy';
}

export class LifecycleStack extends Stack {
  /** Model package groups by `<assetModel>/<predictor>`. */
  public readonly groups: Readonly<Record<string, sagemaker.CfnModelPackageGroup>>;
  public readonly bucket: s3.Bucket;
  public readonly trainingRole: iam.Role;
  public readonly stateMachine: sfn.StateMachine;
  /** Drift alarms by asset model. */
  public readonly driftAlarms: Readonly<Record<string, cloudwatch.Alarm>>;
  public readonly manifest: BundleManifest;

  constructor(scope: Construct, id: string, props: LifecycleStackProps) {
    super(scope, id, props);
    const region = this.region;
    if (Token.isUnresolved(region)) throw new ContradictoryPropsError(`${id}: the stack needs a concrete region to pick the XGBoost image; set pdm.region or CDK_DEFAULT_REGION`);
    const image = xgboostImageUri(region);
    const prefix = `pdm-${props.stage}`;
    this.manifest = parseManifest(readFileSync(join(props.layersDir, 'model', MANIFEST_FILE), 'utf8'));

    // Registry: groups are free and create-only (a new name replaces the group), versions are created at run time.
    const groups: Record<string, sagemaker.CfnModelPackageGroup> = {};
    for (const [assetModel, entry] of Object.entries(this.manifest.models)) {
      for (const p of entry.predictors) {
        const name = modelPackageGroupName(props.stage, assetModel, p.name);
        groups[`${assetModel}/${p.name}`] = new sagemaker.CfnModelPackageGroup(this, `Group-${assetModel}-${p.name}`, {
          modelPackageGroupName: name,
          modelPackageGroupDescription: `${prefix}: versions of ${assetModel}/${p.name} (${p.kind}); the newest Approved version is the champion`,
        });
      }
    }
    this.groups = groups;

    const dataPolicy = props.dataRemovalPolicy === 'retain' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    this.bucket = new s3.Bucket(this, 'RetrainBucket', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: props.historyKey,
      bucketKeyEnabled: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      serverAccessLogsBucket: props.accessLogsBucket,
      serverAccessLogsPrefix: 'retrain/',
      // Training CSVs are copies of history: expire them; model archives and evaluations back registered versions: keep.
      lifecycleRules: [
        { id: 'expire-training-data', prefix: `${RETRAIN_PREFIX.data}/`, expiration: Duration.days(30) },
        { id: 'abort-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
      removalPolicy: dataPolicy,
    });

    const layer = new lambda.LayerVersion(this, 'ModelLayer', {
      description: 'The deployed PdM model bundle under /opt/model: the champion the retrained models are compared with',
      code: lambda.Code.fromAsset(props.layersDir, { exclude: ['*', '!model', '!model/**'] }),
      compatibleArchitectures: [lambda.Architecture.ARM_64],
      compatibleRuntimes: [PDM_RUNTIME],
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.trainingRole = this.createTrainingRole(props, region);
    const fns = this.createFunctions(props, layer, image);
    this.stateMachine = this.createStateMachine(props, fns, image);
    this.driftAlarms = this.createTriggers(props);

    new CfnOutput(this, 'RetrainStateMachineArn', { value: this.stateMachine.stateMachineArn, description: 'Start with: aws stepfunctions start-execution --input \'{"assetModel":"<id>"}\'' });
    new CfnOutput(this, 'RetrainBucketName', { value: this.bucket.bucketName, description: 'Training data, model archives and evaluations' });
    this.acknowledge(fns);
  }

  /**
   * The role SageMaker assumes to run a training job: read this run's CSVs, write model archives, pull
   * the built-in XGBoost image, write its logs and metrics (AWS's training-role policy,
   * doc_source/sagemaker-roles.md, narrowed to our prefixes, the one repository and the one key).
   */
  private createTrainingRole(props: LifecycleStackProps, region: string): iam.Role {
    const role = new iam.Role(this, 'TrainingRole', {
      assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } } }),
      description: 'SageMaker training jobs of the PdM retraining pipeline',
    });
    role.addToPolicy(new iam.PolicyStatement({ sid: 'ReadTrainingData', actions: ['s3:GetObject'], resources: [this.bucket.arnForObjects(`${RETRAIN_PREFIX.data}/*`)] }));
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ListTrainingData',
        actions: ['s3:ListBucket'],
        resources: [this.bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${RETRAIN_PREFIX.data}/*`] } },
      }),
    );
    role.addToPolicy(new iam.PolicyStatement({ sid: 'WriteModels', actions: ['s3:PutObject'], resources: [this.bucket.arnForObjects(`${RETRAIN_PREFIX.models}/*`)] }));
    // kms:CreateGrant lets SageMaker attach the key to the training volume, only for AWS resources.
    role.addToPolicy(new iam.PolicyStatement({ sid: 'DataKey', actions: ['kms:Decrypt', 'kms:GenerateDataKey', 'kms:Encrypt'], resources: [props.historyKey.keyArn] }));
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'VolumeKeyGrant',
        actions: ['kms:CreateGrant'],
        resources: [props.historyKey.keyArn],
        conditions: { Bool: { 'kms:GrantIsForAWSResource': 'true' } },
      }),
    );
    const registry = XGBOOST_REGISTRY_ACCOUNTS[region]!;
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'PullXgboostImage',
        actions: ['ecr:BatchCheckLayerAvailability', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchGetImage'],
        resources: [`arn:${Aws.PARTITION}:ecr:${region}:${registry}:repository/sagemaker-xgboost`],
      }),
    );
    // ecr:GetAuthorizationToken and cloudwatch:PutMetricData have no resource-level permissions.
    role.addToPolicy(new iam.PolicyStatement({ sid: 'EcrLogin', actions: ['ecr:GetAuthorizationToken'], resources: ['*'] }));
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'TrainingMetrics',
        actions: ['cloudwatch:PutMetricData'],
        resources: ['*'],
        conditions: { StringEquals: { 'cloudwatch:namespace': '/aws/sagemaker/TrainingJobs' } },
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'TrainingLogs',
        actions: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
        resources: [`arn:${Aws.PARTITION}:logs:${region}:${Aws.ACCOUNT_ID}:log-group:/aws/sagemaker/TrainingJobs:*`],
      }),
    );
    return role;
  }

  private createFunctions(props: LifecycleStackProps, layer: lambda.ILayerVersion, image: string): { exporter: PdmFunction; evaluator: PdmFunction; registrar: PdmFunction } {
    const names = historyNames(props.stage);
    const logRetention = props.logRetentionDays as logs.RetentionDays;
    const logRemovalPolicy = props.dataRemovalPolicy === 'retain' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    const common = { logRetention, logRemovalPolicy };
    const keyUse = (fn: PdmFunction, actions: string[]) => fn.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions, resources: [props.historyKey.keyArn] }));

    const exporter = new PdmFunction(this, 'RetrainExport', {
      ...common,
      entry: 'lambdas/retrain/export.ts',
      description: 'Retraining: history (Athena) → train and holdout CSV per predictor',
      memorySize: 2048,
      timeout: Duration.minutes(15),
      layers: [layer],
    });
    const catalogArn = `arn:${Aws.PARTITION}:glue:${Aws.REGION}:${Aws.ACCOUNT_ID}:catalog`;
    const databaseArn = `arn:${Aws.PARTITION}:glue:${Aws.REGION}:${Aws.ACCOUNT_ID}:database/${names.database}`;
    const tablesArn = `arn:${Aws.PARTITION}:glue:${Aws.REGION}:${Aws.ACCOUNT_ID}:table/${names.database}/*`;
    for (const st of [
      new iam.PolicyStatement({
        actions: ['athena:StartQueryExecution', 'athena:GetQueryExecution', 'athena:GetQueryResults', 'athena:StopQueryExecution', 'athena:GetWorkGroup'],
        resources: [`arn:${Aws.PARTITION}:athena:${Aws.REGION}:${Aws.ACCOUNT_ID}:workgroup/${names.workgroup}`],
      }),
      new iam.PolicyStatement({ actions: ['glue:GetDatabase', 'glue:GetTable', 'glue:GetTables', 'glue:GetPartitions'], resources: [catalogArn, databaseArn, tablesArn] }),
      new iam.PolicyStatement({ actions: ['s3:GetObject', 's3:ListBucket', 's3:GetBucketLocation'], resources: [props.warehouse.bucketArn, props.warehouse.arnForObjects('tables/*')] }),
      new iam.PolicyStatement({
        actions: ['s3:GetObject', 's3:PutObject', 's3:ListBucket', 's3:GetBucketLocation', 's3:AbortMultipartUpload'],
        resources: [props.athenaResults.bucketArn, props.athenaResults.arnForObjects('results/*')],
      }),
      new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: [this.bucket.arnForObjects(`${RETRAIN_PREFIX.data}/*`)] }),
    ]) {
      exporter.role.addToPrincipalPolicy(st);
    }
    keyUse(exporter, ['kms:Decrypt', 'kms:GenerateDataKey']);
    exporter.function.addEnvironment(RETRAIN_ENV.stage, props.stage);
    exporter.function.addEnvironment(RETRAIN_ENV.bucket, this.bucket.bucketName);
    exporter.function.addEnvironment(RETRAIN_ENV.workgroup, names.workgroup);
    exporter.function.addEnvironment(RETRAIN_ENV.database, names.database);
    exporter.function.addEnvironment(RETRAIN_ENV.holdoutFraction, String(props.retraining.holdoutFraction));

    const evaluator = new PdmFunction(this, 'RetrainEvaluate', {
      ...common,
      entry: 'lambdas/retrain/evaluate.ts',
      description: 'Retraining: score the trained model and the deployed champion on the holdout; write the evaluation JSON',
      memorySize: 2048,
      timeout: Duration.minutes(5),
      layers: [layer],
    });
    evaluator.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [this.bucket.arnForObjects(`${RETRAIN_PREFIX.data}/*`), this.bucket.arnForObjects(`${RETRAIN_PREFIX.models}/*`)] }),
    );
    evaluator.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: [this.bucket.arnForObjects(`${RETRAIN_PREFIX.evaluations}/*`)] }));
    keyUse(evaluator, ['kms:Decrypt', 'kms:GenerateDataKey']);
    evaluator.function.addEnvironment(RETRAIN_ENV.bucket, this.bucket.bucketName);

    const registrar = new PdmFunction(this, 'RetrainRegister', {
      ...common,
      entry: 'lambdas/retrain/register.ts',
      description: 'Retraining: register the version (PendingManualApproval), approve it only with autoPromote and a passed gate',
      memorySize: 256,
      timeout: Duration.minutes(5),
    });
    const groupArn = this.formatArn({ service: 'sagemaker', resource: 'model-package-group', resourceName: `${prefix(props)}-*` });
    const packageArn = this.formatArn({ service: 'sagemaker', resource: 'model-package', resourceName: `${prefix(props)}-*` });
    registrar.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['sagemaker:CreateModelPackage', 'sagemaker:DescribeModelPackage', 'sagemaker:UpdateModelPackage', 'sagemaker:DescribeModelPackageGroup'],
        resources: [groupArn, packageArn, `${packageArn}/*`],
      }),
    );
    // ListModelPackages has no resource-level permission (Service Authorization Reference, SageMaker).
    registrar.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['sagemaker:ListModelPackages'], resources: ['*'] }));
    registrar.function.addEnvironment(RETRAIN_ENV.image, image);
    registrar.function.addEnvironment(RETRAIN_ENV.autoPromote, String(props.retraining.autoPromote));
    return { exporter, evaluator, registrar };
  }

  private createStateMachine(props: LifecycleStackProps, fns: { exporter: PdmFunction; evaluator: PdmFunction; registrar: PdmFunction }, image: string): sfn.StateMachine {
    const r = props.retraining;
    const exportStep = new tasks.LambdaInvoke(this, 'Export', {
      lambdaFunction: fns.exporter.function,
      payload: sfn.TaskInput.fromObject({
        input: sfn.JsonPath.objectAt('$'),
        executionName: sfn.JsonPath.executionName,
        startedAt: sfn.JsonPath.stringAt('$$.Execution.StartTime'),
      }),
      payloadResponseOnly: true,
      retryOnServiceExceptions: true,
    });

    const train = new tasks.SageMakerCreateTrainingJob(this, 'Train', {
      // An immutable view: the task's S3 binds would otherwise add s3 actions on "*" for the JSONPath input.
      role: this.trainingRole.withoutPolicyUpdates(),
      trainingJobName: sfn.JsonPath.stringAt('$.job.jobName'),
      algorithmSpecification: { trainingImage: tasks.DockerImage.fromRegistry(image), trainingInputMode: tasks.InputMode.FILE },
      inputDataConfig: [
        {
          channelName: 'train',
          // The built-in algorithm's default is text/libsvm (channel_validation.py): CSV must be named.
          contentType: 'text/csv',
          dataSource: { s3DataSource: { s3DataType: tasks.S3DataType.S3_PREFIX, s3Location: tasks.S3Location.fromJsonExpression('$.job.trainUri') } },
        },
      ],
      // An s3:// URI from the export function (fromBucket would render an https:// URL).
      outputDataConfig: { s3OutputLocation: tasks.S3Location.fromJsonExpression('$.job.outputUri'), encryptionKey: props.historyKey },
      resourceConfig: {
        instanceCount: 1,
        instanceType: new ec2.InstanceType(r.instanceType.replace(/^ml\./, '')),
        volumeSize: Size.gibibytes(r.volumeSizeGb),
        volumeEncryptionKey: props.historyKey,
      },
      stoppingCondition: { maxRuntime: Duration.minutes(r.maxRuntimeMinutes) },
      hyperparameters: Object.fromEntries(HYPERPARAMETER_KEYS.map((k) => [k, sfn.JsonPath.stringAt(`$.job.hyperparameters.${k}`)])),
      integrationPattern: sfn.IntegrationPattern.RUN_JOB,
      resultSelector: { ModelArtifacts: sfn.JsonPath.objectAt('$.ModelArtifacts') },
      resultPath: '$.training',
    });
    const evaluate = new tasks.LambdaInvoke(this, 'Evaluate', {
      lambdaFunction: fns.evaluator.function,
      payload: sfn.TaskInput.fromObject({ job: sfn.JsonPath.objectAt('$.job'), training: sfn.JsonPath.objectAt('$.training') }),
      payloadResponseOnly: true,
      resultPath: '$.evaluation',
      retryOnServiceExceptions: true,
    });
    const register = new tasks.LambdaInvoke(this, 'Register', {
      lambdaFunction: fns.registrar.function,
      payload: sfn.TaskInput.fromObject({ job: sfn.JsonPath.objectAt('$.job'), evaluation: sfn.JsonPath.objectAt('$.evaluation') }),
      payloadResponseOnly: true,
      retryOnServiceExceptions: true,
    });
    const perPredictor = new sfn.Map(this, 'EachPredictor', {
      itemsPath: '$.jobs',
      itemSelector: { job: sfn.JsonPath.objectAt('$$.Map.Item.Value') },
      maxConcurrency: r.parallelTrainingJobs,
      resultPath: '$.results',
    }).itemProcessor(train.next(evaluate).next(register));

    const publish = (sid: string, message: Record<string, unknown>) =>
      new tasks.SnsPublish(this, sid, { topic: props.opsTopic, subject: `pdm-${props.stage} retraining`, message: sfn.TaskInput.fromObject(message) });
    const notify = publish('NotifyDone', {
      event: 'RetrainingFinished',
      assetModel: sfn.JsonPath.stringAt('$.assetModel'),
      trigger: sfn.JsonPath.stringAt('$.trigger'),
      execution: sfn.JsonPath.executionId,
      versions: sfn.JsonPath.objectAt('$.results'),
      skipped: sfn.JsonPath.objectAt('$.skipped'),
    });
    const failed = publish('NotifyFailed', { event: 'RetrainingFailed', execution: sfn.JsonPath.executionId, error: sfn.JsonPath.objectAt('$.error') }).next(
      new sfn.Fail(this, 'Failed', { cause: 'a retraining step failed; the ops notification carries the error' }),
    );
    exportStep.addCatch(failed, { resultPath: '$.error' });
    perPredictor.addCatch(failed, { resultPath: '$.error' });

    const logGroup = new logs.LogGroup(this, 'RetrainLogs', {
      logGroupName: `/aws/vendedlogs/states/pdm-${props.stage}-retrain`,
      retention: props.logRetentionDays as logs.RetentionDays,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const machine = new sfn.StateMachine(this, 'Retrain', {
      stateMachineName: `pdm-${props.stage}-retrain`,
      definitionBody: sfn.DefinitionBody.fromChainable(exportStep.next(perPredictor).next(notify)),
      timeout: Duration.hours(24),
      tracingEnabled: true,
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
    });
    // The ops topic is encrypted with the stage's data key: publishing needs the key too.
    machine.addToRolePolicy(new iam.PolicyStatement({ actions: ['kms:GenerateDataKey', 'kms:Decrypt'], resources: [props.opsTopicKey.keyArn] }));
    return machine;
  }

  /** A drift alarm per asset model and the rules that start a run: on alarm, and on the optional schedule. */
  private createTriggers(props: LifecycleStackProps): Record<string, cloudwatch.Alarm> {
    const dlq = new sqs.Queue(this, 'TriggerDlq', {
      queueName: `pdm-${props.stage}-retrain-trigger-failures`,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    const dlqReason = 'This queue is the dead-letter queue of the retraining rules\' target; a DLQ of a DLQ adds nothing.';
    Validations.of(dlq).acknowledge({ id: 'AwsSolutions-SQS3', reason: dlqReason }, { id: 'Serverless-SQSRedrivePolicy', reason: dlqReason });
    const start = (assetModel: string, trigger: string) =>
      new targets.SfnStateMachine(this.stateMachine, { input: events.RuleTargetInput.fromObject({ assetModel, trigger }), deadLetterQueue: dlq, retryAttempts: 4 });
    const action = new cwActions.SnsAction(props.opsTopic);
    const alarms: Record<string, cloudwatch.Alarm> = {};
    for (const assetModel of Object.keys(this.manifest.models)) {
      const cid = assetModel.replace(/[^A-Za-z0-9]/g, '');
      const alarm = new cloudwatch.Alarm(this, `Drift${cid}`, {
        alarmName: driftAlarmName(props.stage, assetModel),
        alarmDescription: `Feature drift of ${assetModel}: max PSI over its watched features above ${props.retraining.driftPsiThreshold} for ${DRIFT_DATAPOINTS} hours; starts retraining (docs/models.md)`,
        metric: new cloudwatch.Metric({
          namespace: DRIFT_METRIC.namespace,
          metricName: DRIFT_METRIC.name,
          dimensionsMap: { [DRIFT_METRIC.dimension]: assetModel },
          statistic: 'Maximum',
          period: DRIFT_METRIC.period,
        }),
        threshold: props.retraining.driftPsiThreshold,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        // N hours in a row, as the local emulation judges them (docs/drift.md).
        evaluationPeriods: DRIFT_DATAPOINTS,
        datapointsToAlarm: DRIFT_DATAPOINTS,
        // No data means the features function published nothing (no traffic): not drift.
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      alarm.addAlarmAction(action);
      alarms[assetModel] = alarm;
      new events.Rule(this, `DriftRetrain${cid}`, {
        description: `Start retraining of ${assetModel} when its drift alarm goes to ALARM`,
        eventPattern: {
          source: ['aws.cloudwatch'],
          detailType: ['CloudWatch Alarm State Change'],
          resources: [alarm.alarmArn],
          detail: { state: { value: ['ALARM'] } },
        },
        targets: [start(assetModel, 'drift')],
      });
      if (props.retraining.schedule) {
        new events.Rule(this, `ScheduledRetrain${cid}`, {
          description: `Scheduled retraining of ${assetModel}`,
          schedule: events.Schedule.expression(props.retraining.schedule),
          targets: [start(assetModel, 'schedule')],
        });
      }
    }
    return alarms;
  }

  private acknowledge(fns: { exporter: PdmFunction; evaluator: PdmFunction; registrar: PdmFunction }): void {
    const why = 'Invoked synchronously by the retraining state machine, which retries and catches failures (ops notification); an async DLQ or destination never fires.';
    for (const fn of Object.values(fns)) Validations.of(fn).acknowledge({ id: 'Serverless-LambdaDLQ', reason: why }, { id: 'Serverless-LambdaAsyncFailureDestination', reason: why });
    allowWildcards(this, [
      ...KMS_GRANT_ALLOWANCES,
      { pattern: /^Resource::.*RetrainBucket.*\/(data|models|evaluations)\/\*$/, reason: 'Training data, model archives and evaluations are named per run under their prefix.' },
      { pattern: /^Resource::.*(Warehouse|AthenaResults|HistoryWarehouse).*\/(tables|results)\/\*$/, reason: 'Athena reads the Iceberg files under tables/ and writes results named by query id under results/.' },
      { pattern: /^Resource::arn:.*:glue:.*:table\/pdm_.*\/\*$/, reason: 'The export reads every history table of the stage database (features, maintenance, telemetry).' },
      { pattern: /^Resource::arn:.*:sagemaker:.*:model-package(-group)?\/pdm-.*-\*(\/\*)?$/, reason: "Model packages are created at run time in this stage's groups (pdm-<stage>-*); versions are numbered by SageMaker." },
      { pattern: /^Resource::arn:.*:logs:.*:log-group:\/aws\/sagemaker\/TrainingJobs:\*$/, reason: 'SageMaker writes one log stream per training job in its fixed log group.' },
      {
        pattern: /^Resource::\*$/,
        onlyActions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords', 'ecr:GetAuthorizationToken', 'cloudwatch:PutMetricData', 'sagemaker:ListModelPackages', 'sagemaker:ListTags', 'xray:GetSamplingRules', 'xray:GetSamplingTargets', 'logs:CreateLogDelivery', 'logs:GetLogDelivery', 'logs:UpdateLogDelivery', 'logs:DeleteLogDelivery', 'logs:ListLogDeliveries', 'logs:PutResourcePolicy', 'logs:DescribeResourcePolicies', 'logs:DescribeLogGroups'],
        reason:
          'Only actions without resource-level permissions use "*": X-Ray tracing, Step Functions log delivery, ecr:GetAuthorizationToken (image pull login), cloudwatch:PutMetricData (limited by a namespace condition), sagemaker:ListModelPackages and sagemaker:ListTags (the .sync training integration).',
      },
      { pattern: /^Resource::arn:.*:sagemaker:.*:training-job\/\*$/, reason: 'Training jobs are named per run by the export function (pdm-<stage>-<time>-<run>-<i>); the .sync integration describes and stops them.' },
      { pattern: /^Resource::.*:log-group:.*:\*$/, reason: "Lambda creates the log streams at run time; the wildcard covers the streams of the function's own log group only." },
      { pattern: /^Resource::<RetrainExport.*\.Arn>:\*$|^Resource::<RetrainEvaluate.*\.Arn>:\*$|^Resource::<RetrainRegister.*\.Arn>:\*$/, reason: 'The state machine invokes any version of its own three functions (the LambdaInvoke task grants the function ARN and its qualifiers).' },
    ]);
  }
}

const prefix = (props: LifecycleStackProps) => `pdm-${props.stage}`;
