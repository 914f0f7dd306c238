import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp } from '../fixtures.ts';

type PolicyStatement = { Sid: string; Action: string; Resource: unknown; Condition?: unknown };

/** Renders a resource's Fn::Join (the only intrinsic formatArn emits here) to text with the pseudo parameters named. */
function joined(value: unknown): string {
  if (typeof value === 'string') return value;
  const join = (value as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
  return join[1].map((part) => (typeof part === 'string' ? part : `{${(part as { Ref: string }).Ref}}`)).join(join[0]);
}

describe('IngestStack', () => {
  let template: Template;
  let statements: PolicyStatement[];

  beforeAll(() => {
    template = Template.fromStack(buildTestApp({ scoring: { mode: 'in-lambda' } }).stacks.ingest);
    const policy = Object.values(template.findResources('AWS::IoT::Policy'))[0] as { Properties: { PolicyDocument: { Statement: PolicyStatement[] } } };
    statements = policy.Properties.PolicyDocument.Statement;
  });

  it.each(['telemetry', 'maintenance'])('routes %s messages to the raw stream keyed by asset id', (kind) => {
    template.hasResourceProperties('AWS::IoT::TopicRule', {
      TopicRulePayload: {
        Sql: `SELECT encode(*, 'base64') AS payload, topic() AS topic, timestamp() AS receivedAt FROM 'pdm/+/+/${kind}'`,
        AwsIotSqlVersion: '2016-03-23',
        Actions: [{ Kinesis: { PartitionKey: '${topic(3)}', StreamName: Match.anyValue(), RoleArn: Match.anyValue() } }],
        ErrorAction: { S3: Match.objectLike({ BucketName: Match.anyValue(), Key: Match.stringLikeRegexp(`^rule-errors/${kind}/`) }) },
      },
    });
  });

  it('lets a device connect only as its own thing, with an attached certificate', () => {
    const connect = statements.filter((s) => s.Action === 'iot:Connect');

    expect(connect).toHaveLength(1);
    expect(joined(connect[0]!.Resource)).toBe('arn:{AWS::Partition}:iot:eu-west-1:123456789012:client/${iot:Connection.Thing.ThingName}');
    expect(connect[0]!.Condition).toEqual({ Bool: { 'iot:Connection.Thing.IsAttached': 'true' } });
  });

  it('lets a device publish only to its own telemetry and maintenance topics', () => {
    const publish = statements.filter((s) => s.Action === 'iot:Publish');

    expect(publish).toHaveLength(1);
    expect((publish[0]!.Resource as unknown[]).map(joined)).toEqual([
      'arn:{AWS::Partition}:iot:eu-west-1:123456789012:topic/pdm/*/${iot:Connection.Thing.ThingName}/telemetry',
      'arn:{AWS::Partition}:iot:eu-west-1:123456789012:topic/pdm/*/${iot:Connection.Thing.ThingName}/maintenance',
    ]);
    expect(statements.map((s) => s.Action).sort()).toEqual(['iot:Connect', 'iot:Publish']);
  });

  it('lets the rule role write records and error objects, nothing else', () => {
    const policies = Object.values(template.findResources('AWS::IAM::Policy')) as Array<{ Properties: { PolicyDocument: { Statement: Array<{ Action: string | string[] }> } } }>;
    const actions = policies.flatMap((p) => p.Properties.PolicyDocument.Statement.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action])));

    expect(actions).toEqual(expect.arrayContaining(['kinesis:PutRecord', 'kinesis:PutRecords', 's3:PutObject']));
    for (const a of actions) expect(a).toMatch(/^(kinesis:(PutRecords?|ListShards|DescribeStream.*)|s3:(PutObject.*|Abort\*)|kms:(Encrypt|ReEncrypt\*|GenerateDataKey\*|Decrypt))$/);
  });
});
