import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { createNotifyHandler, NotifyInputError, parseTopics } from '../../lambdas/notify/app.ts';

const snsMock = mockClient(SNSClient);
const topics = { critical: 'arn:aws:sns:eu-west-1:123456789012:pdm-dev-critical', warning: 'arn:aws:sns:eu-west-1:123456789012:pdm-dev-warning' };
const event = {
  source: 'pdm.twin',
  'detail-type': 'TwinHealthChanged',
  detail: {
    version: 1, alertId: 'x', assetId: 'pump-1', siteId: 'plant-1', assetModel: 'centrifugal-pump', scope: 'asset', from: 'NORMAL', to: 'WARNING',
    severity: 'warning', at: '2026-12-02T06:00:00Z', seq: 1, scores: { risk: 0.7, anomaly: 1, failureProbability: 0.6, rul: null, rulUnit: 'hours' }, topContributors: [], estimatedCostAvoidedUsd: 0,
  },
} as never;

describe('notify handler', () => {
  beforeEach(() => {
    snsMock.reset();
    snsMock.on(PublishCommand).resolves({ MessageId: 'm-1' });
  });

  it('publishes once to the named topic with per-protocol messages and the filter attributes', async () => {
    const handler = createNotifyHandler({ sns: new SNSClient({ region: 'eu-west-1' }), topics });

    const r = await handler({ topic: 'warning', event });

    expect(r).toEqual({ messageId: 'm-1' });
    const input = snsMock.commandCalls(PublishCommand)[0]!.args[0].input;
    expect(input).toMatchObject({
      TopicArn: topics.warning,
      MessageStructure: 'json',
      Subject: '[WARNING] pump-1: NORMAL -> WARNING',
      MessageAttributes: {
        severity: { DataType: 'String', StringValue: 'warning' },
        siteId: { DataType: 'String', StringValue: 'plant-1' },
        assetModel: { DataType: 'String', StringValue: 'centrifugal-pump' },
      },
    });
    expect(JSON.parse(JSON.parse(input.Message!).default)).toEqual(event);
  });

  it('rejects an unknown topic without publishing', async () => {
    const handler = createNotifyHandler({ sns: new SNSClient({ region: 'eu-west-1' }), topics });

    await expect(handler({ topic: 'ops', event })).rejects.toThrow(NotifyInputError);
    expect(snsMock.commandCalls(PublishCommand)).toHaveLength(0);
  });

  it('reads the topic map from its environment variable, with a named error when malformed', () => {
    expect(parseTopics(JSON.stringify(topics))).toEqual(topics);
    expect(() => parseTopics(undefined)).toThrow(NotifyInputError);
    expect(() => parseTopics('{"critical":"not-an-arn"}')).toThrow(NotifyInputError);
  });
});
