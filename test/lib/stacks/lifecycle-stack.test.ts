import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseStageConfig, StageConfigError } from '../../../lib/config.ts';
import { buildTestApp } from '../fixtures.ts';

type Statement = { Action: string | string[]; Resource: unknown; Condition?: unknown };

// The definition is free-form JSON; the tests walk it by state name.
type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The state machine definition as one string with CloudFormation intrinsics flattened to placeholders. */
function definitionOf(template: Template): Json {
  const [machine] = Object.values(template.findResources('AWS::StepFunctions::StateMachine'));
  const parts = (machine!.Properties.DefinitionString as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
  return JSON.parse(parts.map((p) => (typeof p === 'string' ? p : 'X')).join(''));
}

function statementsOf(template: Template, logicalIdPrefix: string): Statement[] {
  const policies = template.findResources('AWS::IAM::Policy');
  const roles = template.findResources('AWS::IAM::Role');
  const out: Statement[] = [];
  for (const [id, p] of Object.entries(policies)) if (id.startsWith(logicalIdPrefix)) out.push(...(p.Properties.PolicyDocument.Statement as Statement[]));
  for (const [id, r] of Object.entries(roles)) {
    if (!id.startsWith(logicalIdPrefix)) continue;
    for (const inline of (r.Properties.Policies ?? []) as Array<{ PolicyDocument: { Statement: Statement[] } }>) out.push(...inline.PolicyDocument.Statement);
  }
  return out;
}

describe('LifecycleStack', () => {
  let template: Template;
  let built: ReturnType<typeof buildTestApp>;

  beforeAll(() => {
    built = buildTestApp({ retraining: { schedule: 'rate(7 days)' } });
    template = Template.fromStack(built.stacks.lifecycle);
  });

  it('declares one model package group per predictor of the shipped bundle, named without underscores', () => {
    const predictors = Object.values(built.stacks.lifecycle.manifest.models).flatMap((m) => m.predictors);
    template.resourceCountIs('AWS::SageMaker::ModelPackageGroup', predictors.length);
    template.hasResourceProperties('AWS::SageMaker::ModelPackageGroup', { ModelPackageGroupName: 'pdm-dev-industrial-machine-failure-comp1' });
    for (const g of Object.values(template.findResources('AWS::SageMaker::ModelPackageGroup'))) {
      const name = g.Properties.ModelPackageGroupName as string;
      expect(name).toMatch(/^[a-zA-Z0-9](-*[a-zA-Z0-9])*$/);
      expect(name.length).toBeLessThanOrEqual(63);
    }
  });

  it('runs export, then per predictor a .sync built-in XGBoost 3.0-5 training job on CSV, evaluation and registration, then notifies', () => {
    const def = definitionOf(template);
    expect(def.StartAt).toBe('Export');
    expect(def.States.Export.Next).toBe('EachPredictor');
    const map = def.States.EachPredictor;
    expect(map.Type).toBe('Map');
    expect(map.ItemsPath).toBe('$.jobs');
    expect(map.MaxConcurrency).toBe(1);
    expect(map.Next).toBe('NotifyDone');
    const inner = map.ItemProcessor.States;
    expect(map.ItemProcessor.StartAt).toBe('Train');
    expect(inner.Train.Next).toBe('Evaluate');
    expect(inner.Evaluate.Next).toBe('Register');
    expect(inner.Register.End).toBe(true);
    expect(inner.Train.Resource).toMatch(/:states:::sagemaker:createTrainingJob\.sync$/);
    expect(inner.Train.Parameters.AlgorithmSpecification.TrainingImage).toBe('141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:3.0-5');
    expect(inner.Train.Parameters.InputDataConfig).toEqual([
      { ChannelName: 'train', ContentType: 'text/csv', DataSource: { S3DataSource: { 'S3Uri.$': '$.job.trainUri', S3DataType: 'S3Prefix' } } },
    ]);
    expect(inner.Train.Parameters.HyperParameters['num_round.$']).toBe('$.job.hyperparameters.num_round');
    expect(inner.Train.Parameters.ResourceConfig).toMatchObject({ InstanceCount: 1, InstanceType: 'ml.m5.large', VolumeSizeInGB: 10 });
    expect(inner.Train.Parameters.ResourceConfig.VolumeKmsKeyId).toBeDefined();
    expect(inner.Train.Parameters.OutputDataConfig.KmsKeyId).toBeDefined();
    // Failures of the export or of any predictor notify the ops topic, then fail the execution.
    expect(def.States.Export.Catch[0].Next).toBe('NotifyFailed');
    expect(map.Catch[0].Next).toBe('NotifyFailed');
    expect(def.States.NotifyFailed.Next).toBe('Failed');
    expect(def.States.NotifyDone.Resource).toMatch(/:states:::sns:publish$/);
  });

  it('logs and traces the state machine', () => {
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineName: 'pdm-dev-retrain',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: Match.objectLike({ Level: 'ALL' }),
    });
  });

  it('gives the training role only its prefixes, the one XGBoost repository and namespaced metrics', () => {
    const st = statementsOf(template, 'TrainingRole');
    const star = st.filter((s) => s.Resource === '*').flatMap((s) => [s.Action].flat());
    expect(star.sort()).toEqual(['cloudwatch:PutMetricData', 'ecr:GetAuthorizationToken']);
    const metrics = st.find((s) => [s.Action].flat().includes('cloudwatch:PutMetricData'))!;
    expect(metrics.Condition).toEqual({ StringEquals: { 'cloudwatch:namespace': '/aws/sagemaker/TrainingJobs' } });
    const pull = st.find((s) => [s.Action].flat().includes('ecr:BatchGetImage'))!;
    expect(JSON.stringify(pull.Resource)).toContain(':ecr:eu-west-1:141502667606:repository/sagemaker-xgboost');
    const read = st.find((s) => s.Action === 's3:GetObject')!;
    expect(JSON.stringify(read.Resource)).toMatch(/\/data\/\*/);
    const write = st.find((s) => s.Action === 's3:PutObject')!;
    expect(JSON.stringify(write.Resource)).toMatch(/\/models\/\*/);
    expect(st.some((s) => [s.Action].flat().some((a) => a === 's3:*' || a === '*'))).toBe(false);
  });

  it('lets the state machine pass the training role to SageMaker only', () => {
    const st = statementsOf(template, 'RetrainRole');
    const pass = st.find((s) => s.Action === 'iam:PassRole')!;
    expect(pass.Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' } });
    expect(JSON.stringify(pass.Resource)).toContain('TrainingRole');
  });

  it('alarms per asset model on max feature PSI over the threshold for three hours in a row, notifying ops, with missing data not breaching', () => {
    const models = Object.keys(built.stacks.lifecycle.manifest.models);
    template.resourceCountIs('AWS::CloudWatch::Alarm', models.length);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'pdm-dev-drift-centrifugal-pump',
      Namespace: 'pdm',
      MetricName: 'FeatureDriftPsi',
      Dimensions: [{ Name: 'AssetModel', Value: 'centrifugal-pump' }],
      Statistic: 'Maximum',
      Period: 3600,
      EvaluationPeriods: 3,
      DatapointsToAlarm: 3,
      Threshold: 0.2,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [Match.anyValue()],
    });
  });

  it('starts retraining of that asset model when its alarm goes to ALARM, and on the configured schedule', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.cloudwatch'],
        'detail-type': ['CloudWatch Alarm State Change'],
        resources: [{ 'Fn::GetAtt': [Match.stringLikeRegexp('^Driftcentrifugalpump'), 'Arn'] }],
        detail: { state: { value: ['ALARM'] } },
      },
      Targets: [Match.objectLike({ Input: JSON.stringify({ assetModel: 'centrifugal-pump', trigger: 'drift' }), DeadLetterConfig: Match.anyValue() })],
    });
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(7 days)', Targets: [Match.objectLike({ Input: JSON.stringify({ assetModel: 'turbofan', trigger: 'schedule' }) })] });
  });

  it('has no schedule by default, and takes the PSI threshold from the stage config', () => {
    const t = Template.fromStack(buildTestApp({ retraining: { driftPsiThreshold: 0.3 } }).stacks.lifecycle);
    expect(Object.values(t.findResources('AWS::Events::Rule')).some((r) => r.Properties.ScheduleExpression)).toBe(false);
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { Threshold: 0.3 });
  });

  it('passes autoPromote to the register function, off by default', () => {
    template.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ PDM_AUTO_PROMOTE: 'false', PDM_XGBOOST_IMAGE: Match.stringLikeRegexp('sagemaker-xgboost:3.0-5$') }) } });
  });

  it('refuses a schedule that is not an EventBridge expression', () => {
    expect(() => parseStageConfig({ retraining: { schedule: 'weekly' } })).toThrow(StageConfigError);
  });
});
