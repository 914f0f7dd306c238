/**
 * One dashboard and the pipeline's alarms, all notifying the ops topic: function errors and throttles,
 * failure-destination depth, the quarantine rate and the scoring fallback rate from the handlers'
 * custom metrics, endpoint errors, IoT rule action failures, objects in the rule-error bucket and
 * stream throttling. Iterator-age alarms belong to the stream consumers (ProcessingStack) and are shown
 * here. docs/deploy.md has a runbook per alarm.
 */
import { Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';

/** Namespace and `service` dimension of the handlers' Powertools metrics. */
export const HANDLER_METRICS = {
  namespace: 'pdm',
  cleanService: 'pdm-clean',
  featuresService: 'pdm-features',
  /** Clean function: messages in, and messages sent to quarantine. */
  received: 'MessagesReceived',
  quarantined: 'MessagesQuarantined',
  /** Feature function: assets scored per invocation. */
  scored: 'Assets',
  /**
   * Predictor rows scored in-Lambda after an endpoint call failed (one row per asset per predictor).
   * Counting rows, not failed calls, keeps the share meaningful however many assets a call carries.
   */
  fallbacks: 'EndpointFallbackRows',
} as const;

export interface ObservabilityStackProps extends StackProps {
  /** Physical name prefix, e.g. `pdm-dev`. */
  readonly prefix: string;
  readonly opsTopic: sns.ITopic;
  readonly functions: Readonly<Record<string, lambda.IFunction>>;
  readonly streams: readonly kinesis.IStream[];
  readonly dlqs: Readonly<Record<string, sqs.IQueue>>;
  /** Endpoint names by `<assetModelId>/<predictor>`. @default - none (in-Lambda scoring) */
  readonly endpoints?: Readonly<Record<string, string>>;
  /** Iterator-age alarms made by the consumers, shown on the dashboard. @default - none */
  readonly iteratorAgeAlarms?: readonly cloudwatch.IAlarm[];
  /** Quarantined share of messages that raises the alarm (0–1). @default 0.2 */
  readonly quarantineRateThreshold?: number;
  /** Fallback predictor rows per scored asset that raise the alarm. @default 0.1 */
  readonly fallbackRateThreshold?: number;
  /** IoT topic rules whose action failures and throttling raise alarms. @default - none */
  readonly topicRuleNames?: readonly string[];
  /** Bucket of the rules' error action: any object in it raises an alarm. @default - none */
  readonly ruleErrorsBucket?: s3.IBucket;
}

export class ObservabilityStack extends Stack {
  public readonly dashboard: cloudwatch.Dashboard;
  public readonly alarms: readonly cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: ObservabilityStackProps) {
    super(scope, id, props);
    const action = new cwActions.SnsAction(props.opsTopic);
    const alarms: cloudwatch.Alarm[] = [];
    const alarm = (aid: string, p: cloudwatch.AlarmProps): cloudwatch.Alarm => {
      const a = new cloudwatch.Alarm(this, aid, { treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING, ...p });
      a.addAlarmAction(action);
      alarms.push(a);
      return a;
    };
    const fiveMin = Duration.minutes(5);

    const fnWidgets: cloudwatch.IWidget[] = [];
    for (const [name, fn] of Object.entries(props.functions)) {
      alarm(`${name}Errors`, {
        alarmDescription: `${name} function errors (a whole batch failed)`,
        metric: fn.metricErrors({ period: fiveMin, statistic: 'Sum' }),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
      });
      alarm(`${name}Throttles`, {
        alarmDescription: `${name} function throttles`,
        metric: fn.metricThrottles({ period: fiveMin, statistic: 'Sum' }),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 3,
        datapointsToAlarm: 2,
      });
      fnWidgets.push(
        new cloudwatch.GraphWidget({
          title: `${name}: invocations, errors, throttles`,
          left: [fn.metricInvocations({ period: fiveMin }), fn.metricErrors({ period: fiveMin }), fn.metricThrottles({ period: fiveMin })],
          right: [fn.metricDuration({ period: fiveMin, statistic: 'p99' })],
        }),
      );
    }

    for (const [name, q] of Object.entries(props.dlqs)) {
      alarm(`${name}Depth`, {
        alarmDescription: `${name} holds records or events that failed after all retries; inspect and redrive`,
        metric: q.metricApproximateNumberOfMessagesVisible({ period: fiveMin, statistic: 'Maximum' }),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
      });
    }

    const handlerMetric = (service: string, metricName: string) =>
      new cloudwatch.Metric({ namespace: HANDLER_METRICS.namespace, metricName, dimensionsMap: { service }, statistic: 'Sum', period: Duration.minutes(15) });
    const quarantineRate = new cloudwatch.MathExpression({
      label: 'quarantined share of messages',
      expression: 'IF(received > 0, quarantined / received, 0)',
      usingMetrics: {
        received: handlerMetric(HANDLER_METRICS.cleanService, HANDLER_METRICS.received),
        quarantined: handlerMetric(HANDLER_METRICS.cleanService, HANDLER_METRICS.quarantined),
      },
      period: Duration.minutes(15),
    });
    alarm('QuarantineRate', {
      alarmDescription: 'A large share of device messages is quarantined: a firmware, unit or registration problem',
      metric: quarantineRate,
      threshold: props.quarantineRateThreshold ?? 0.2,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 2,
    });

    const endpointWidgets: cloudwatch.IWidget[] = [];
    const endpoints = Object.entries(props.endpoints ?? {});
    if (endpoints.length > 0) {
      const fallbackRate = new cloudwatch.MathExpression({
        label: 'fallback predictor rows per scored asset',
        expression: 'IF(scored > 0, fallbacks / scored, 0)',
        usingMetrics: {
          scored: handlerMetric(HANDLER_METRICS.featuresService, HANDLER_METRICS.scored),
          fallbacks: handlerMetric(HANDLER_METRICS.featuresService, HANDLER_METRICS.fallbacks),
        },
        period: Duration.minutes(15),
      });
      alarm('FallbackRate', {
        alarmDescription: 'The feature function often scores in-Lambda because endpoints fail or time out',
        metric: fallbackRate,
        threshold: props.fallbackRateThreshold ?? 0.1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 2,
      });
      const errorMetrics: cloudwatch.IMetric[] = [];
      for (const [key, endpointName] of endpoints) {
        const m = new cloudwatch.Metric({
          namespace: 'AWS/SageMaker',
          metricName: 'Invocation5XXErrors',
          dimensionsMap: { EndpointName: endpointName, VariantName: 'AllTraffic' },
          statistic: 'Sum',
          period: fiveMin,
        });
        errorMetrics.push(m.with({ label: key }));
        alarm(`Endpoint${key.replace(/[^A-Za-z0-9]/g, '')}Errors`, {
          alarmDescription: `Endpoint ${endpointName} (${key}) returns server errors`,
          metric: m,
          threshold: 0,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
          evaluationPeriods: 2,
        });
      }
      endpointWidgets.push(
        new cloudwatch.GraphWidget({ title: 'Endpoint 5XX errors', left: errorMetrics }),
        new cloudwatch.GraphWidget({ title: 'Scoring fallback share', left: [fallbackRate] }),
      );
    }

    // Ingress: a failing Kinesis action sends messages to the rule-error bucket; throttling loses them.
    const ingressWidgets: cloudwatch.IWidget[] = [];
    const rules = props.topicRuleNames ?? [];
    if (rules.length > 0) {
      const iotMetric = (metricName: string, dims: Record<string, string>, label: string) =>
        new cloudwatch.Metric({ namespace: 'AWS/IoT', metricName, dimensionsMap: dims, statistic: 'Sum', period: fiveMin, label });
      // Ids must differ between the two expressions: they share a graph.
      const sumOf = (id: string, label: string, metrics: cloudwatch.IMetric[]) =>
        new cloudwatch.MathExpression({
          label,
          expression: metrics.map((_, i) => `FILL(${id}${i}, 0)`).join(' + '),
          usingMetrics: Object.fromEntries(metrics.map((m, i) => [`${id}${i}`, m])),
          period: fiveMin,
        });
      const failures = sumOf('failure', 'rule action failures', rules.map((r) => iotMetric('Failure', { RuleName: r, ActionType: 'Kinesis' }, r)));
      const throttled = sumOf('throttled', 'rule messages throttled', rules.map((r) => iotMetric('RuleMessageThrottled', { RuleName: r }, r)));
      alarm('TopicRuleFailures', {
        alarmDescription: 'IoT topic rules failed to put messages into the raw stream (they went to the rule-error bucket)',
        metric: failures,
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
      });
      alarm('TopicRuleThrottled', {
        alarmDescription: 'IoT Core throttled messages to the topic rules (rules engine quota); those messages are lost',
        metric: throttled,
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
      });
      ingressWidgets.push(new cloudwatch.GraphWidget({ title: 'Topic rules: action failures, throttled', left: [failures, throttled] }));
    }
    if (props.ruleErrorsBucket) {
      // S3 storage metrics are daily, so this alarm is slow; TopicRuleFailures is the fast signal.
      alarm('RuleErrorObjects', {
        alarmDescription: 'The rule-error bucket holds messages IoT Core could not deliver; replay or delete them (docs/deploy.md)',
        metric: new cloudwatch.Metric({
          namespace: 'AWS/S3',
          metricName: 'NumberOfObjects',
          dimensionsMap: { BucketName: props.ruleErrorsBucket.bucketName, StorageType: 'AllStorageTypes' },
          statistic: 'Maximum',
          period: Duration.days(1),
        }),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
      });
    }
    props.streams.forEach((s, i) => {
      const name = i === 0 ? 'RawStream' : i === 1 ? 'CleanStream' : `Stream${i}`;
      const write = s.metric('WriteProvisionedThroughputExceeded', { statistic: 'Sum', period: fiveMin });
      const read = s.metric('ReadProvisionedThroughputExceeded', { statistic: 'Sum', period: fiveMin });
      alarm(`${name}WriteThrottled`, {
        alarmDescription: `${name}: writes throttled (shards too few for the fleet); producers retry, then records go to the rule-error bucket or the clean DLQ`,
        metric: write,
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 3,
        datapointsToAlarm: 2,
      });
      alarm(`${name}ReadThrottled`, {
        alarmDescription: `${name}: reads throttled; the consumer falls behind (see iterator age)`,
        metric: read,
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 3,
        datapointsToAlarm: 2,
      });
      ingressWidgets.push(new cloudwatch.GraphWidget({ title: `${name}: throttled writes and reads`, left: [write, read] }));
    });

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', { dashboardName: `${props.prefix}-pipeline` });
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Stream iterator age (ms)',
        left: props.streams.map((s) => s.metricGetRecordsIteratorAgeMilliseconds({ statistic: 'Maximum', period: Duration.minutes(1) })),
      }),
      new cloudwatch.GraphWidget({ title: 'Quarantine share', left: [quarantineRate] }),
    );
    this.dashboard.addWidgets(...fnWidgets);
    if (endpointWidgets.length > 0) this.dashboard.addWidgets(...endpointWidgets);
    if (ingressWidgets.length > 0) this.dashboard.addWidgets(...ingressWidgets);
    const allAlarms: cloudwatch.IAlarm[] = [...(props.iteratorAgeAlarms ?? []), ...alarms];
    this.dashboard.addWidgets(new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: allAlarms, width: 24 }));
    this.alarms = alarms;
  }
}
