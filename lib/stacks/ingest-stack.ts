/**
 * Device ingress: IoT Core topic rules that copy every telemetry and maintenance message into the raw
 * stream, and the IoT policy that ties a device certificate to its own topics.
 */
import { Stack, type StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as iot from 'aws-cdk-lib/aws-iot';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { allowWildcards, bucketPutAllowances, KMS_GRANT_ALLOWANCES } from '../nag.ts';
import { TOPIC_PREFIX, type TopicKind } from '../../lambdas/core/contract/topics.ts';

/** IoT rule SQL for one topic kind. Base64 keeps any payload (even invalid JSON) for the clean function to judge. */
export function topicRuleSql(kind: TopicKind): string {
  return `SELECT encode(*, 'base64') AS payload, topic() AS topic, timestamp() AS receivedAt FROM '${TOPIC_PREFIX}/+/+/${kind}'`;
}

/** Partition key: the asset id (third topic level), so one asset's records stay ordered on one shard. */
export const RAW_PARTITION_KEY = '${topic(3)}';

/** The IoT policy variable naming the connected thing. */
export const THING_NAME_VARIABLE = '${iot:Connection.Thing.ThingName}';

export interface IngestStackProps extends StackProps {
  /** Stage name, used in physical names. */
  readonly stage: string;
  /** Destination of the rules. */
  readonly rawStream: kinesis.IStream;
  /** Where IoT Core writes messages whose action failed. */
  readonly ruleErrorsBucket: s3.IBucket;
}

export class IngestStack extends Stack {
  /** Name of the device policy to attach to each device certificate. */
  public readonly devicePolicyName: string;
  /** The topic rules by kind. */
  public readonly rules: Readonly<Record<TopicKind, iot.CfnTopicRule>>;

  constructor(scope: Construct, id: string, props: IngestStackProps) {
    super(scope, id, props);
    const ruleRole = new iam.Role(this, 'TopicRuleRole', {
      assumedBy: new iam.ServicePrincipal('iot.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': this.account } } }),
      description: 'Lets the PdM topic rules write to the raw stream and their errors to S3',
    });
    props.rawStream.grantWrite(ruleRole);
    props.ruleErrorsBucket.grantPut(ruleRole);
    allowWildcards(ruleRole, [...KMS_GRANT_ALLOWANCES, ...bucketPutAllowances('RuleErrorsBucket')]);

    const rule = (kind: TopicKind): iot.CfnTopicRule =>
      new iot.CfnTopicRule(this, `${kind === 'telemetry' ? 'Telemetry' : 'Maintenance'}Rule`, {
        // Rule names allow only [a-zA-Z0-9_].
        ruleName: `pdm_${props.stage.replace(/-/g, '_')}_${kind}`,
        topicRulePayload: {
          description: `Copies ${TOPIC_PREFIX}/{siteId}/{assetId}/${kind} messages into the raw stream`,
          sql: topicRuleSql(kind),
          awsIotSqlVersion: '2016-03-23',
          ruleDisabled: false,
          actions: [{ kinesis: { streamName: props.rawStream.streamName, partitionKey: RAW_PARTITION_KEY, roleArn: ruleRole.roleArn } }],
          errorAction: {
            s3: {
              bucketName: props.ruleErrorsBucket.bucketName,
              key: `rule-errors/${kind}/\${topic(2)}/\${topic(3)}/\${timestamp()}-\${newuuid()}.json`,
              roleArn: ruleRole.roleArn,
            },
          },
        },
      });
    this.rules = { telemetry: rule('telemetry'), maintenance: rule('maintenance') };

    this.devicePolicyName = `pdm-${props.stage}-device`;
    new iot.CfnPolicy(this, 'DevicePolicy', {
      policyName: this.devicePolicyName,
      policyDocument: devicePolicyDocument(this),
    });
  }
}

/**
 * A device may connect only with its thing name as client id (and only with a certificate attached to
 * that thing), and publish only to its own telemetry and maintenance topics, under any site.
 */
export function devicePolicyDocument(stack: Stack): Record<string, unknown> {
  const arn = (resource: string) => stack.formatArn({ service: 'iot', resource });
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'ConnectAsOwnThing',
        Effect: 'Allow',
        Action: 'iot:Connect',
        Resource: arn(`client/${THING_NAME_VARIABLE}`),
        Condition: { Bool: { 'iot:Connection.Thing.IsAttached': 'true' } },
      },
      {
        Sid: 'PublishOwnTopics',
        Effect: 'Allow',
        Action: 'iot:Publish',
        Resource: [
          arn(`topic/${TOPIC_PREFIX}/*/${THING_NAME_VARIABLE}/telemetry`),
          arn(`topic/${TOPIC_PREFIX}/*/${THING_NAME_VARIABLE}/maintenance`),
        ],
      },
    ],
  };
}
