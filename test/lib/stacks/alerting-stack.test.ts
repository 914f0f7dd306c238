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
    template.resourceCountIs('AWS::Lambda::Function', 0);
    template.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: '/aws/events/pdm-dev-twin-transitions', RetentionInDays: 30 });
  });

  it('subscribes every configured endpoint with its protocol', () => {
    template.resourceCountIs('AWS::SNS::Subscription', 4);
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'oncall@example.com' });
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'sms', Endpoint: '+14155550100' });
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'https', Endpoint: 'https://hooks.example.com/pdm' });
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'sqs', RawMessageDelivery: true });
  });

  it('filters on the event body, where EventBridge puts siteId and assetModel', () => {
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      FilterPolicyScope: 'MessageBody',
      FilterPolicy: { detail: { siteId: ['plant-1'], assetModel: ['centrifugal-pump'] } },
    });
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'https', FilterPolicy: Match.absent() });
  });
});
