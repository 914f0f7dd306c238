/**
 * Device ingress: one IoT Core topic rule per device topic (telemetry, maintenance, events) that copies
 * every message into the raw stream as `{ payload: base64, topic, receivedAt }`, the IoT policy that ties
 * a device certificate to its own topics (broker or Basic Ingest form, per `ingest.basicIngest`), and,
 * when `provisioning.fleetByClaim` is on, a fleet-provisioning template with its claim policy.
 */
import { Stack, type StackProps, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as iot from 'aws-cdk-lib/aws-iot';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { basicIngestPrefix, DEVICE_TOPIC_PREFIX, INGEST_TOPICS, type IngestTopic, topicRuleName } from '../ingest/topics.ts';
import { allowWildcards } from '../nag.ts';

/**
 * IoT rule SQL for one device topic. Base64 keeps any payload (even invalid JSON) for the clean function
 * to judge. The topic is rebuilt from its levels because `topic(n)` is documented to skip the Basic
 * Ingest prefix (lib/ingest/topics.ts), so both wire forms give the same `pdm/{site}/{asset}/{kind}`.
 * `FROM` stays, so the rule also serves broker publishes (local mode, and stages without Basic Ingest).
 */
export function topicRuleSql(segment: string): string {
  return (
    "SELECT encode(*, 'base64') AS payload, concat(topic(1), '/', topic(2), '/', topic(3), '/', topic(4)) AS topic, " +
    `timestamp() AS receivedAt FROM '${DEVICE_TOPIC_PREFIX}/+/+/${segment}'`
  );
}

/** Partition key: the asset id (third topic level), so one asset's records stay ordered on one shard. */
export const RAW_PARTITION_KEY = '${topic(3)}';

/** The IoT policy variable naming the connected thing. */
export const THING_NAME_VARIABLE = '${iot:Connection.Thing.ThingName}';

/** Name of the fleet-provisioning template of a stage. */
export const provisioningTemplateName = (stage: string) => `pdm-${stage}-fleet`;

export interface IngestStackProps extends StackProps {
  /** Stage name, used in physical names. */
  readonly stage: string;
  /** Destination of the rules. */
  readonly rawStream: kinesis.IStream;
  /** Where IoT Core writes messages whose action failed. */
  readonly ruleErrorsBucket: s3.IBucket;
  /** Devices publish through Basic Ingest (`$aws/rules/<rule>/…`) instead of the broker. @default true */
  readonly basicIngest?: boolean;
  /** Create the fleet-provisioning-by-claim template. @default false */
  readonly fleetByClaim?: boolean;
}

export class IngestStack extends Stack {
  /** Name of the device policy to attach to each device certificate. */
  public readonly devicePolicyName: string;
  /** The topic rules by topic segment (`telemetry`, `maintenance`, `events`). */
  public readonly rules: Readonly<Record<string, iot.CfnTopicRule>>;
  /** The fleet-provisioning template, when enabled. */
  public readonly provisioningTemplate: iot.CfnProvisioningTemplate | undefined;

  constructor(scope: Construct, id: string, props: IngestStackProps) {
    super(scope, id, props);
    const basicIngest = props.basicIngest ?? true;
    const ruleRole = new iam.Role(this, 'TopicRuleRole', {
      assumedBy: new iam.ServicePrincipal('iot.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': this.account } } }),
      description: 'Lets the PdM topic rules write to the raw stream and their errors to S3',
    });
    // Exactly what the two actions call, and the producer side of each key (no Encrypt/ReEncrypt).
    ruleRole.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['kinesis:PutRecord'], resources: [props.rawStream.streamArn] }));
    ruleRole.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: [props.ruleErrorsBucket.arnForObjects('rule-errors/*')] }));
    const keys = [...new Set([props.rawStream.encryptionKey, props.ruleErrorsBucket.encryptionKey].filter((k) => k !== undefined))];
    if (keys.length > 0) ruleRole.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['kms:GenerateDataKey'], resources: keys.map((k) => k.keyArn) }));
    allowWildcards(ruleRole, [
      {
        pattern: /^Resource::.*RuleErrorsBucket.*\/rule-errors\/\*$/,
        reason: 'Error objects are named at run time (topic/site/asset/timestamp-uuid); the grant covers the rule-errors/ prefix of the rule-error bucket only.',
      },
    ]);

    const rule = (t: IngestTopic): iot.CfnTopicRule =>
      new iot.CfnTopicRule(this, `${t.id}Rule`, {
        ruleName: topicRuleName(props.stage, t.segment),
        topicRulePayload: {
          description: `Copies ${DEVICE_TOPIC_PREFIX}/{siteId}/{assetId}/${t.segment} messages (${t.contract}) into the raw stream`,
          sql: topicRuleSql(t.segment),
          awsIotSqlVersion: '2016-03-23',
          ruleDisabled: false,
          actions: [{ kinesis: { streamName: props.rawStream.streamName, partitionKey: RAW_PARTITION_KEY, roleArn: ruleRole.roleArn } }],
          errorAction: {
            s3: {
              bucketName: props.ruleErrorsBucket.bucketName,
              key: `rule-errors/${t.segment}/\${topic(2)}/\${topic(3)}/\${timestamp()}-\${newuuid()}.json`,
              roleArn: ruleRole.roleArn,
            },
          },
        },
      });
    this.rules = Object.fromEntries(INGEST_TOPICS.map((t) => [t.segment, rule(t)]));

    this.devicePolicyName = `pdm-${props.stage}-device`;
    new iot.CfnPolicy(this, 'DevicePolicy', {
      policyName: this.devicePolicyName,
      policyDocument: devicePolicyDocument(this, { stage: props.stage, basicIngest }),
    });

    this.provisioningTemplate = props.fleetByClaim ? this.fleetProvisioning(props.stage) : undefined;
  }

  /**
   * Provisioning by claim: a device connects with the shared claim certificate, asks IoT Core for its
   * own certificate and registers itself through this template, which creates the thing (name = asset
   * id, attributes site/model), activates the certificate and attaches the device policy
   * (https://docs.aws.amazon.com/iot/latest/developerguide/provision-wo-cert.html).
   */
  private fleetProvisioning(stage: string): iot.CfnProvisioningTemplate {
    const templateName = provisioningTemplateName(stage);
    const role = new iam.Role(this, 'ProvisioningRole', {
      assumedBy: new iam.ServicePrincipal('iot.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': this.account } } }),
      description: 'Lets IoT Core fleet provisioning create things and activate certificates',
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSIoTThingsRegistration')],
    });
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSIoTThingsRegistration]',
      reason: 'AWSIoTThingsRegistration is the role policy AWS documents for fleet provisioning; it is attached only when provisioning.fleetByClaim is on.',
    });
    const templateBody = {
      Parameters: {
        AssetId: { Type: 'String' },
        SiteId: { Type: 'String' },
        ModelId: { Type: 'String' },
        'AWS::IoT::Certificate::Id': { Type: 'String' },
      },
      Resources: {
        thing: {
          Type: 'AWS::IoT::Thing',
          OverrideSettings: { AttributePayload: 'MERGE', ThingGroups: 'DO_NOTHING', ThingTypeName: 'REPLACE' },
          Properties: { ThingName: { Ref: 'AssetId' }, AttributePayload: { site: { Ref: 'SiteId' }, model: { Ref: 'ModelId' } } },
        },
        certificate: { Type: 'AWS::IoT::Certificate', Properties: { CertificateId: { Ref: 'AWS::IoT::Certificate::Id' }, Status: 'ACTIVE' } },
        policy: { Type: 'AWS::IoT::Policy', Properties: { PolicyName: this.devicePolicyName } },
      },
    };
    const template = new iot.CfnProvisioningTemplate(this, 'FleetProvisioningTemplate', {
      templateName,
      description: 'PdM devices: thing = asset id with site/model attributes, device policy attached',
      provisioningRoleArn: role.roleArn,
      templateBody: JSON.stringify(templateBody),
      enabled: true,
    });
    const arn = (resource: string) => this.formatArn({ service: 'iot', resource });
    new iot.CfnPolicy(this, 'ClaimPolicy', {
      policyName: `pdm-${stage}-claim`,
      policyDocument: {
        Version: '2012-10-17',
        Statement: [
          { Sid: 'Connect', Effect: 'Allow', Action: 'iot:Connect', Resource: arn('client/*') },
          {
            Sid: 'ProvisioningTopics',
            Effect: 'Allow',
            Action: ['iot:Publish', 'iot:Receive'],
            Resource: [arn('topic/$aws/certificates/create/*'), arn(`topic/$aws/provisioning-templates/${templateName}/provision/*`)],
          },
          {
            Sid: 'ProvisioningReplies',
            Effect: 'Allow',
            Action: 'iot:Subscribe',
            Resource: [arn('topicfilter/$aws/certificates/create/*'), arn(`topicfilter/$aws/provisioning-templates/${templateName}/provision/*`)],
          },
        ],
      },
    });
    return template;
  }
}

/**
 * A device may connect only with its thing name as client id (and only with a certificate attached to
 * that thing), and publish only to its own topics, under any site: in the broker form, or with Basic
 * Ingest only behind its rule's prefix (a Basic Ingest publish is authorised on the full topic,
 * https://docs.aws.amazon.com/iot/latest/developerguide/iot-basic-ingest.html).
 */
export function devicePolicyDocument(stack: Stack, opts: { readonly stage: string; readonly basicIngest: boolean }): Record<string, unknown> {
  const arn = (resource: string) => stack.formatArn({ service: 'iot', resource });
  const prefix = (segment: string) => (opts.basicIngest ? basicIngestPrefix(opts.stage, segment) : '');
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
        Resource: INGEST_TOPICS.map((t) => arn(`topic/${prefix(t.segment)}${DEVICE_TOPIC_PREFIX}/*/${THING_NAME_VARIABLE}/${t.segment}`)),
      },
    ],
  };
}
