import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { HANDLER_METRICS } from '../../../lib/stacks/observability-stack.ts';
import { buildTestApp, ENDPOINT_SCORING } from '../fixtures.ts';

describe('ObservabilityStack', () => {
  let template: Template;
  let inLambda: Template;
  let endpointCount: number;

  beforeAll(() => {
    const { stacks } = buildTestApp({ scoring: ENDPOINT_SCORING });
    endpointCount = Object.keys(stacks.model!.endpoints).length;
    template = Template.fromStack(stacks.observability);
    inLambda = Template.fromStack(buildTestApp({ scoring: { mode: 'in-lambda' } }).stacks.observability);
  });

  it('sends every alarm to the ops topic', () => {
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')) as Array<{ Properties: { AlarmActions: unknown[] } }>;

    expect(alarms.length).toBeGreaterThan(0);
    for (const a of alarms) expect(a.Properties.AlarmActions).toHaveLength(1);
  });

  it('alarms on errors and throttles of both functions', () => {
    for (const metric of ['Errors', 'Throttles']) {
      const matches = template.findResources('AWS::CloudWatch::Alarm', { Properties: { Namespace: 'AWS/Lambda', MetricName: metric } });
      expect(Object.keys(matches)).toHaveLength(2);
    }
  });

  it('alarms as soon as any failure queue holds a message', () => {
    const dlq = template.findResources('AWS::CloudWatch::Alarm', {
      Properties: { Namespace: 'AWS/SQS', MetricName: 'ApproximateNumberOfMessagesVisible', Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' },
    });
    expect(Object.keys(dlq)).toHaveLength(3);
  });

  it('alarms on the quarantine share computed from the clean function metrics', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Threshold: 0.2,
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: 'IF(received > 0, quarantined / received, 0)' }),
        Match.objectLike({
          Id: 'quarantined',
          MetricStat: Match.objectLike({
            Metric: { Namespace: 'pdm', MetricName: HANDLER_METRICS.quarantined, Dimensions: [{ Name: 'service', Value: 'pdm-clean' }] },
          }),
        }),
      ]),
    });
  });

  it('alarms on endpoint errors and the fallback share when endpoints exist', () => {
    const endpointAlarms = template.findResources('AWS::CloudWatch::Alarm', { Properties: { Namespace: 'AWS/SageMaker', MetricName: 'Invocation5XXErrors' } });

    expect(Object.keys(endpointAlarms)).toHaveLength(endpointCount);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Metrics: Match.arrayWith([
        Match.objectLike({ Id: 'fallbacks', MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: HANDLER_METRICS.fallbacks }) }) }),
      ]),
    });
  });

  it('has no endpoint alarms in in-lambda mode', () => {
    expect(Object.keys(inLambda.findResources('AWS::CloudWatch::Alarm', { Properties: { Namespace: 'AWS/SageMaker' } }))).toHaveLength(0);
  });

  it('builds one dashboard', () => {
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });

  it('compares fallback rows with assets scored, so the share reaches 1 when every call falls back', () => {
    for (const part of [
      { Expression: 'IF(scored > 0, fallbacks / scored, 0)' },
      { Id: 'fallbacks', MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: 'EndpointFallbackRows' }) }) },
      { Id: 'scored', MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: 'Assets' }) }) },
    ]) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', { Threshold: 0.1, Metrics: Match.arrayWith([Match.objectLike(part)]) });
    }
  });

  it('alarms on topic rule action failures and throttling of all three rules', () => {
    for (const [id, metricName] of [['failure', 'Failure'], ['throttled', 'RuleMessageThrottled']] as const) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Threshold: 0,
        Metrics: Match.arrayWith([
          Match.objectLike({ Expression: `FILL(${id}0, 0) + FILL(${id}1, 0) + FILL(${id}2, 0)` }),
          ...['telemetry', 'maintenance', 'events'].map((kind) =>
            Match.objectLike({
              MetricStat: Match.objectLike({
                Metric: Match.objectLike({ Namespace: 'AWS/IoT', MetricName: metricName, Dimensions: Match.arrayWith([{ Name: 'RuleName', Value: `pdm_dev_${kind}` }]) }),
              }),
            }),
          ),
        ]),
      });
    }
  });

  it('alarms when the rule-error bucket holds any object', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/S3',
      MetricName: 'NumberOfObjects',
      Dimensions: Match.arrayWith([{ Name: 'StorageType', Value: 'AllStorageTypes' }]),
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      Period: 86_400,
    });
  });

  it('alarms on write and read throttling of both streams', () => {
    for (const metric of ['WriteProvisionedThroughputExceeded', 'ReadProvisionedThroughputExceeded']) {
      const matches = template.findResources('AWS::CloudWatch::Alarm', { Properties: { Namespace: 'AWS/Kinesis', MetricName: metric, Threshold: 0 } });
      expect(Object.keys(matches)).toHaveLength(2);
    }
  });
});
