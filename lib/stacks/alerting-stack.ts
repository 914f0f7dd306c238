/**
 * Alert routing: one EventBridge rule per `ALERT_ROUTES` entry on the twin bus, rendered from the very
 * pattern objects the local mode matches, to the severity topics (through the alert formatter) and the
 * transitions log group; and the topics' subscriptions from the stage config.
 *
 * Why a formatter function and not an input transformer: people on email and SMS need a short text
 * with optional parts (a RUL interval when there is one, up to three sensors, a dashboard link), which
 * an input transformer's fixed template cannot express, while HTTPS/SQS/Lambda subscribers must keep
 * the JSON event. The function publishes once with `MessageStructure: json` (text for email and SMS,
 * the event for every other protocol) and sets `severity`, `siteId` and `assetModel` as message
 * attributes, so subscriptions filter on attributes.
 */
import { Duration, RemovalPolicy, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { ALERT_TOPICS_ENV, DASHBOARD_URL_ENV } from '../../lambdas/notify/app.ts';
import { PdmFunction } from '../constructs/pdm-function.ts';
import { ALERT_ROUTES, type AlertRoute } from '../../lambdas/core/alerts/rules.ts';
import type { StageConfig, SubscriptionsConfig } from '../config.ts';
import { allowWildcards, KMS_GRANT_ALLOWANCES } from '../nag.ts';

export interface AlertingStackProps extends StackProps {
  readonly config: StageConfig;
  readonly bus: events.IEventBus;
  readonly criticalTopic: sns.ITopic;
  readonly warningTopic: sns.ITopic;
  readonly opsTopic: sns.ITopic;
  /** Routes to render. @default ALERT_ROUTES */
  readonly routes?: readonly AlertRoute[];
}

export class AlertingStack extends Stack {
  /** Rules by route id. */
  public readonly rules: Readonly<Record<string, events.Rule>>;
  /** Every twin health transition, as the raw event JSON. */
  public readonly transitionsLog: logs.LogGroup;
  /** Events a target failed to take after retries. */
  public readonly rulesDlq: sqs.Queue;
  /** Turns alert events into per-protocol SNS messages. */
  public readonly notify: PdmFunction;

  constructor(scope: Construct, id: string, props: AlertingStackProps) {
    super(scope, id, props);
    const { config } = props;
    const prefix = `pdm-${config.stage}`;

    // The DLQ lives with the rules: its policy names the rules, which would otherwise be a cross-stack cycle.
    this.rulesDlq = new sqs.Queue(this, 'RulesDlq', {
      queueName: `${prefix}-alert-rule-failures`,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    const dlqReason = 'This queue is the dead-letter queue of the alert rules\' targets; a DLQ of a DLQ adds nothing.';
    Validations.of(this.rulesDlq).acknowledge({ id: 'AwsSolutions-SQS3', reason: dlqReason }, { id: 'Serverless-SQSRedrivePolicy', reason: dlqReason });

    this.transitionsLog = new logs.LogGroup(this, 'TransitionsLog', {
      // EventBridge requires the /aws/events/ prefix for its CloudWatch Logs targets.
      logGroupName: `/aws/events/${prefix}-twin-transitions`,
      retention: config.logRetentionDays as logs.RetentionDays,
      removalPolicy: config.dataRemovalPolicy === 'retain' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    // A native resource policy instead of the LogGroup target's custom-resource Lambda.
    new logs.ResourcePolicy(this, 'TransitionsLogPolicy', {
      policyStatements: [
        new iam.PolicyStatement({
          principals: [new iam.ServicePrincipal('events.amazonaws.com'), new iam.ServicePrincipal('delivery.logs.amazonaws.com')],
          actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          resources: [`${this.transitionsLog.logGroupArn}`],
        }),
      ],
    });

    const topicFor = (target: AlertRoute['target']): 'critical' | 'warning' | undefined =>
      target === 'critical-topic' ? 'critical' : target === 'warning-topic' ? 'warning' : undefined;
    this.notify = new PdmFunction(this, 'Notify', {
      entry: 'lambdas/notify/handler.ts',
      description: 'Publishes twin alerts: readable text for email/SMS, the JSON event for everything else',
      memorySize: 256,
      timeout: Duration.seconds(30),
      logRetention: config.logRetentionDays as logs.RetentionDays,
    });
    this.notify.function.addEnvironment(ALERT_TOPICS_ENV, Stack.of(this).toJsonString({ critical: props.criticalTopic.topicArn, warning: props.warningTopic.topicArn }));
    if (config.alerts.dashboardUrl) this.notify.function.addEnvironment(DASHBOARD_URL_ENV, config.alerts.dashboardUrl);
    props.criticalTopic.grantPublish(this.notify.function);
    props.warningTopic.grantPublish(this.notify.function);
    // EventBridge invokes it asynchronously; what fails after Lambda's retries lands in the rules' DLQ.
    this.notify.function.configureAsyncInvoke({ onFailure: new SqsDestination(this.rulesDlq), retryAttempts: 2 });
    Validations.of(this.notify).acknowledge({
      id: 'Serverless-LambdaDLQ',
      reason: 'Async failures go to the on-failure destination (the rules DLQ), which carries the request and the error, unlike a DLQ.',
    });
    const retry = { deadLetterQueue: this.rulesDlq, retryAttempts: 8, maxEventAge: Duration.hours(24) };
    const rules: Record<string, events.Rule> = {};
    for (const route of props.routes ?? ALERT_ROUTES) {
      const rule = new events.Rule(this, route.id, {
        eventBus: props.bus,
        description: route.description,
        // Placeholder so the L2 accepts the rule; the override below sets the exact shared pattern.
        eventPattern: { source: ['placeholder'] },
      });
      (rule.node.defaultChild as events.CfnRule).addPropertyOverride('EventPattern', route.pattern);
      const topic = topicFor(route.target);
      if (topic) {
        rule.addTarget(
          new targets.LambdaFunction(this.notify.function, { ...retry, event: events.RuleTargetInput.fromObject({ topic, event: events.EventField.fromPath('$') }) }),
        );
      } else {
        rule.addTarget({
          bind: () => ({
            arn: this.transitionsLog.logGroupArn,
            deadLetterConfig: { arn: this.rulesDlq.queueArn },
            retryPolicy: { maximumRetryAttempts: retry.retryAttempts, maximumEventAgeInSeconds: retry.maxEventAge.toSeconds() },
          }),
        });
        this.rulesDlq.addToResourcePolicy(
          new iam.PolicyStatement({
            principals: [new iam.ServicePrincipal('events.amazonaws.com')],
            actions: ['sqs:SendMessage'],
            resources: [this.rulesDlq.queueArn],
            conditions: { ArnEquals: { 'aws:SourceArn': rule.ruleArn } },
          }),
        );
      }
      rules[route.id] = rule;
    }
    this.rules = rules;
    // The rules' events roles publish to KMS-encrypted topics.
    allowWildcards(this, KMS_GRANT_ALLOWANCES);

    subscribe(this, 'Critical', props.criticalTopic, config.alerts.critical);
    subscribe(this, 'Warning', props.warningTopic, config.alerts.warning);
    subscribe(this, 'Ops', props.opsTopic, config.alerts.ops);
  }
}

/**
 * The attribute filter of a subscription, on the `siteId` and `assetModel` attributes the formatter
 * sets. Undefined when the subscription takes everything. (Ops-topic alarms carry no attributes, so
 * the ops topic's subscriptions should not filter.)
 */
export function attributeFilterPolicy(s: SubscriptionsConfig): Record<string, sns.SubscriptionFilter> | undefined {
  const filter: Record<string, sns.SubscriptionFilter> = {};
  if (s.siteIds && s.siteIds.length > 0) filter['siteId'] = sns.SubscriptionFilter.stringFilter({ allowlist: s.siteIds });
  if (s.assetModels && s.assetModels.length > 0) filter['assetModel'] = sns.SubscriptionFilter.stringFilter({ allowlist: s.assetModels });
  return Object.keys(filter).length > 0 ? filter : undefined;
}

function subscribe(stack: AlertingStack, id: string, topic: sns.ITopic, s: SubscriptionsConfig): void {
  const filterPolicy = attributeFilterPolicy(s);
  const endpoints: Array<{ endpoint: string; protocol: sns.SubscriptionProtocol; raw?: boolean }> = [
    ...s.emails.map((endpoint) => ({ endpoint, protocol: sns.SubscriptionProtocol.EMAIL })),
    ...s.sms.map((endpoint) => ({ endpoint, protocol: sns.SubscriptionProtocol.SMS })),
    ...s.https.map((endpoint) => ({ endpoint, protocol: sns.SubscriptionProtocol.HTTPS })),
    // Raw delivery hands the queue the EventBridge event itself, not wrapped in an SNS envelope.
    ...s.sqs.map((endpoint) => ({ endpoint, protocol: sns.SubscriptionProtocol.SQS, raw: true })),
  ];
  endpoints.forEach((e, i) => {
    // Subscriptions live here (not in the stateful stack) so config changes never touch data resources.
    new sns.Subscription(stack, `${id}Subscription${i}`, {
      topic,
      endpoint: e.endpoint,
      protocol: e.protocol,
      rawMessageDelivery: e.raw,
      filterPolicy,
      deadLetterQueue: stack.rulesDlq,
    });
  });
}
