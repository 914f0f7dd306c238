import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { HANDLER_METRICS } from '../../../lib/stacks/observability-stack.ts';
import { buildTestApp } from '../fixtures.ts';

describe('ObservabilityStack', () => {
  let template: Template;
  let inLambda: Template;
  let endpointCount: number;

  beforeAll(() => {
    const { stacks } = buildTestApp();
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
});
