import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { ALERT_ROUTES } from '../../../lambdas/core/alerts/rules.ts';
import { buildTestApp } from '../fixtures.ts';

describe('AlertingStack', () => {
  let template: Template;

  beforeAll(() => {
    const { stacks } = buildTestApp({
      scoring: { mode: 'in-lambda' },
      alerts: {
        critical: { emails: ['oncall@example.com'], sms: ['+14155550100'], siteIds: ['plant-1'], assetModels: ['centrifugal-pump'] },
        warning: { https: ['https://hooks.example.com/pdm'], sqs: ['arn:aws:sqs:eu-west-1:123456789012:pdm-warnings'] },
      },
    });
    template = Template.fromStack(stacks.alerting);
  });

  it('renders exactly one rule per ALERT_ROUTES entry with the shared pattern', () => {
    const rules = Object.values(template.findResources('AWS::Events::Rule')) as Array<{ Properties: { EventPattern: unknown; Description: string } }>;

    expect(rules).toHaveLength(ALERT_ROUTES.length);
    for (const route of ALERT_ROUTES) {
      const rule = rules.find((r) => r.Properties.Description === route.description);
      expect(rule?.Properties.EventPattern).toEqual(route.pattern);
    }
  });

  it('sends each route to its target with retries and a dead-letter queue', () => {
    for (const route of ALERT_ROUTES) {
      template.hasResourceProperties('AWS::Events::Rule', {
        Description: route.description,
        EventBusName: Match.anyValue(),
        Targets: [Match.objectLike({ DeadLetterConfig: { Arn: Match.anyValue() }, RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 86400 } })],
      });
    }
    const logTarget = ALERT_ROUTES.find((r) => r.target === 'transitions-log')!;
    template.hasResourceProperties('AWS::Events::Rule', {
      Description: logTarget.description,
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^TransitionsLog'), 'Arn'] } })],
    });
  });

  it('lets EventBridge write to the transitions log group through a native resource policy', () => {
    template.resourceCountIs('AWS::Logs::ResourcePolicy', 1);
    // The alert formatter is the stack's only function: no custom-resource Lambda for the log policy.
    template.resourceCountIs('AWS::Lambda::Function', 1);
    template.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: '/aws/events/pdm-dev-twin-transitions', RetentionInDays: 30 });
  });

  it('subscribes every configured endpoint with its protocol', () => {
    template.resourceCountIs('AWS::SNS::Subscription', 4);
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'oncall@example.com' });
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'sms', Endpoint: '+14155550100' });
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'https', Endpoint: 'https://hooks.example.com/pdm' });
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'sqs', RawMessageDelivery: true });
  });

  it('filters on the siteId and assetModel message attributes the formatter sets', () => {
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      FilterPolicyScope: Match.absent(),
      FilterPolicy: { siteId: ['plant-1'], assetModel: ['centrifugal-pump'] },
    });
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'https', FilterPolicy: Match.absent() });
  });

  it('routes topic-bound alerts through the formatter, naming the topic and passing the whole event', () => {
    const critical = ALERT_ROUTES.find((r) => r.target === 'critical-topic')!;
    template.hasResourceProperties('AWS::Events::Rule', {
      Description: critical.description,
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Notify'), 'Arn'] },
          InputTransformer: { InputPathsMap: { f1: '$' }, InputTemplate: '{"topic":"critical","event":<f1>}' },
        }),
      ],
    });
  });

  it('lets the formatter publish to both alert topics, with their key, and sends its failures to the DLQ', () => {
    const policies = Object.entries(template.findResources('AWS::IAM::Policy')).filter(([id]) => id.startsWith('Notify'));
    const actions = policies.flatMap(([, p]) => (p as { Properties: { PolicyDocument: { Statement: Array<{ Action: string | string[] }> } } }).Properties.PolicyDocument.Statement.flatMap((st) => (Array.isArray(st.Action) ? st.Action : [st.Action])));

    expect(actions.filter((a) => a === 'sns:Publish')).toHaveLength(2);
    expect(actions).toEqual(expect.arrayContaining(['kms:Decrypt', 'kms:GenerateDataKey*']));
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('^RulesDlq'), 'Arn'] } } },
    });
  });
});
