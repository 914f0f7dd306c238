import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { basicIngestPrefix, INGEST_TOPICS, sqlTopicLevel, topicRuleName, wireTopic } from '../../../lib/ingest/topics.ts';
import { RAW_PARTITION_KEY, topicRuleSql } from '../../../lib/stacks/ingest-stack.ts';
import { buildTestApp } from '../fixtures.ts';

type PolicyStatement = { Sid: string; Action: string | string[]; Resource: unknown; Condition?: unknown };

/** Renders a resource's Fn::Join (the only intrinsic formatArn emits here) to text with the pseudo parameters named. */
function joined(value: unknown): string {
  if (typeof value === 'string') return value;
  const join = (value as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
  return join[1].map((part) => (typeof part === 'string' ? part : `{${(part as { Ref: string }).Ref}}`)).join(join[0]);
}

function devicePolicy(template: Template): PolicyStatement[] {
  const policies = Object.values(template.findResources('AWS::IoT::Policy', { Properties: { PolicyName: 'pdm-dev-device' } })) as Array<{
    Properties: { PolicyDocument: { Statement: PolicyStatement[] } };
  }>;
  return policies[0]!.Properties.PolicyDocument.Statement;
}

const ARN = 'arn:{AWS::Partition}:iot:eu-west-1:123456789012';
const KINDS = ['telemetry', 'maintenance', 'events'] as const;

/**
 * Evaluates the SELECT list's `topic` expression and the partition key of our rule SQL the way IoT SQL
 * does, with `topic(n)` from {@link sqlTopicLevel} (documented to skip the Basic Ingest prefix).
 */
function evaluateRule(sql: string, wire: string): { topic: string; partitionKey: string } {
  const concat = /concat\(([^)]*(?:\([^)]*\)[^)]*)*)\) AS topic/.exec(sql);
  if (!concat) throw new Error(`no topic expression in ${sql}`);
  const topic = concat[1]!
    .split(/,\s*/)
    .map((arg) => {
      const level = /^topic\((\d)\)$/.exec(arg);
      if (level) return sqlTopicLevel(wire, Number(level[1]))!;
      return /^'(.*)'$/.exec(arg)![1]!;
    })
    .join('');
  const partitionKey = RAW_PARTITION_KEY.replace(/\$\{topic\((\d)\)\}/g, (_, n: string) => sqlTopicLevel(wire, Number(n))!);
  return { topic, partitionKey };
}

describe('IngestStack', () => {
  let template: Template;
  let broker: Template;

  beforeAll(() => {
    template = Template.fromStack(buildTestApp().stacks.ingest);
    broker = Template.fromStack(buildTestApp({ ingest: { basicIngest: false } }).stacks.ingest);
  });

  it.each(KINDS)('routes %s messages to the raw stream keyed by asset id, in the shared envelope', (kind) => {
    template.hasResourceProperties('AWS::IoT::TopicRule', {
      RuleName: `pdm_dev_${kind}`,
      TopicRulePayload: {
        Sql: `SELECT encode(*, 'base64') AS payload, concat(topic(1), '/', topic(2), '/', topic(3), '/', topic(4)) AS topic, timestamp() AS receivedAt FROM 'pdm/+/+/${kind}'`,
        AwsIotSqlVersion: '2016-03-23',
        Actions: [{ Kinesis: { PartitionKey: '${topic(3)}', StreamName: Match.anyValue(), RoleArn: Match.anyValue() } }],
        ErrorAction: { S3: Match.objectLike({ BucketName: Match.anyValue(), Key: Match.stringLikeRegexp(`^rule-errors/${kind}/`) }) },
      },
    });
  });

  it('lets a device connect only as its own thing, with an attached certificate', () => {
    const connect = devicePolicy(template).filter((s) => s.Action === 'iot:Connect');

    expect(connect).toHaveLength(1);
    expect(joined(connect[0]!.Resource)).toBe(`${ARN}:client/\${iot:Connection.Thing.ThingName}`);
    expect(connect[0]!.Condition).toEqual({ Bool: { 'iot:Connection.Thing.IsAttached': 'true' } });
  });

  it('with Basic Ingest (the default), lets a device publish only behind its rules\' prefixes to its own topics', () => {
    const statements = devicePolicy(template);
    const publish = statements.filter((s) => s.Action === 'iot:Publish');

    expect(publish).toHaveLength(1);
    expect((publish[0]!.Resource as unknown[]).map(joined)).toEqual(
      KINDS.map((k) => `${ARN}:topic/$aws/rules/pdm_dev_${k}/pdm/*/\${iot:Connection.Thing.ThingName}/${k}`),
    );
    expect(statements.map((s) => s.Action).sort()).toEqual(['iot:Connect', 'iot:Publish']);
  });

  it('without Basic Ingest, lets a device publish only to its own broker topics', () => {
    const publish = devicePolicy(broker).filter((s) => s.Action === 'iot:Publish');

    expect((publish[0]!.Resource as unknown[]).map(joined)).toEqual(KINDS.map((k) => `${ARN}:topic/pdm/*/\${iot:Connection.Thing.ThingName}/${k}`));
  });

  it('lets the rule role put records, error objects under rule-errors/, and generate data keys, nothing else', () => {
    const policies = Object.values(template.findResources('AWS::IAM::Policy')) as Array<{ Properties: { PolicyDocument: { Statement: PolicyStatement[] } } }>;
    const statements = policies.flatMap((p) => p.Properties.PolicyDocument.Statement);
    const actions = statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));

    expect(actions.sort()).toEqual(['kinesis:PutRecord', 'kms:GenerateDataKey', 's3:PutObject']);
    const put = statements.find((s) => s.Action === 's3:PutObject')!;
    expect(JSON.stringify(put.Resource)).toContain('/rule-errors/*');
  });

  it('creates no fleet provisioning by default', () => {
    template.resourceCountIs('AWS::IoT::ProvisioningTemplate', 0);
  });

  it('creates the claim template, its role and the claim policy when fleetByClaim is on', () => {
    const t = Template.fromStack(buildTestApp({ provisioning: { fleetByClaim: true } }).stacks.ingest);

    t.hasResourceProperties('AWS::IoT::ProvisioningTemplate', { TemplateName: 'pdm-dev-fleet', Enabled: true, ProvisioningRoleArn: Match.anyValue() });
    const body = JSON.parse((Object.values(t.findResources('AWS::IoT::ProvisioningTemplate'))[0] as { Properties: { TemplateBody: string } }).Properties.TemplateBody) as {
      Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
    };
    expect(body.Resources['thing']!.Properties['ThingName']).toEqual({ Ref: 'AssetId' });
    expect(body.Resources['policy']!.Properties['PolicyName']).toBe('pdm-dev-device');
    expect(body.Resources['certificate']!.Properties['Status']).toBe('ACTIVE');
    t.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: Match.objectLike({ Statement: [Match.objectLike({ Principal: { Service: 'iot.amazonaws.com' } })] }),
      ManagedPolicyArns: [Match.objectLike({ 'Fn::Join': Match.arrayWith([Match.arrayWith([':iam::aws:policy/service-role/AWSIoTThingsRegistration'])]) })],
    });
    const claim = (Object.values(t.findResources('AWS::IoT::Policy', { Properties: { PolicyName: 'pdm-dev-claim' } }))[0] as {
      Properties: { PolicyDocument: { Statement: PolicyStatement[] } };
    }).Properties.PolicyDocument.Statement;
    const resources = claim.flatMap((s) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource])).map(joined);
    expect(resources).toEqual(expect.arrayContaining([`${ARN}:topic/$aws/provisioning-templates/pdm-dev-fleet/provision/*`, `${ARN}:topicfilter/$aws/certificates/create/*`]));
  });
});

describe('topic rule SQL', () => {
  it.each(INGEST_TOPICS.map((t) => t.segment))('gives the same topic and partition key for a %s message in both wire forms', (segment) => {
    const topic = `pdm/site-1/pump-7/${segment}`;
    const sql = topicRuleSql(segment);

    const direct = evaluateRule(sql, wireTopic(topic, { stage: 'dev', basicIngest: false }));
    const basic = evaluateRule(sql, wireTopic(topic, { stage: 'dev', basicIngest: true }));

    expect(direct).toEqual({ topic, partitionKey: 'pump-7' });
    expect(basic).toEqual(direct);
  });
});

describe('wire topics', () => {
  it('prefixes a topic with its own rule for Basic Ingest', () => {
    expect(wireTopic('pdm/s/a/telemetry', { stage: 'prod-eu', basicIngest: true })).toBe('$aws/rules/pdm_prod_eu_telemetry/pdm/s/a/telemetry');
    expect(basicIngestPrefix('dev', 'events')).toBe(`$aws/rules/${topicRuleName('dev', 'events')}/`);
  });

  it('rejects a topic that is not a device topic', () => {
    expect(() => wireTopic('pdm/s/a/other', { stage: 'dev', basicIngest: true })).toThrow(/IngestTopicError|not a device topic/);
  });

  it('reads topic levels past the Basic Ingest prefix as the SQL reference documents', () => {
    expect(sqlTopicLevel('$aws/rules/BuildingManager/Buildings/Building5/Floor2/Room201/Lights', 3)).toBe('Floor2');
    expect(sqlTopicLevel('Buildings/Building5/Floor2', 3)).toBe('Floor2');
  });
});
