import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventBridgeAlertPublisher } from '../../../lambdas/adapters/aws/eventbridge.ts';
import type { TwinHealthChangedDetail } from '../../../lambdas/core/alerts/policy.ts';
import { InvalidEventPatternError } from '../../../local/eventbridge/matcher.ts';
import { createLocalAlerting, type LocalAlerting } from '../../../local/sns/alerting.ts';
import type { LocalSubscription } from '../../../local/sns/local-sns.ts';
import { type Receiver, startReceiver } from './helpers.ts';

let dir: string;
let running: { alerting: LocalAlerting; client: EventBridgeClient; hook: Receiver } | undefined;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'local-alerting-'));
});
afterEach(async () => {
  if (running) {
    running.client.destroy();
    await running.alerting.stop();
    await running.hook.close();
    running = undefined;
  }
  await rm(dir, { recursive: true, force: true });
});

const alert = (n: number, severity: TwinHealthChangedDetail['severity'], siteId: string): TwinHealthChangedDetail => ({
  version: '1',
  alertId: `alert-${n}`,
  assetId: `engine-${n}`,
  siteId,
  assetModel: 'turbofan',
  scope: 'asset',
  from: 'WATCH',
  to: severity === 'critical' ? 'CRITICAL' : severity === 'warning' ? 'WARNING' : 'NORMAL',
  severity,
  at: '2024-05-01T12:00:00.000Z',
  seq: n,
  scores: { risk: 0.9, anomaly: 0.8, failureProbability: 0.5, rul: 20, rulUnit: 'cycles' },
  topContributors: [{ sensor: 's11', share: 0.5 }],
  estimatedCostAvoidedUsd: 5000,
});

async function start(subscriptions?: readonly LocalSubscription[]) {
  const hook = await startReceiver();
  const lines: string[] = [];
  const jsonlPath = join(dir, 'alerts.jsonl');
  const alerting = await createLocalAlerting({
    sns: { jsonlPath, webhookUrl: hook.url, print: (l) => lines.push(l), onError: () => undefined, ...(subscriptions ? { subscriptions } : {}) },
  });
  const client = new EventBridgeClient({ region: 'us-east-1', endpoint: alerting.endpoint, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  running = { alerting, client, hook };
  return { alerting, client, hook, lines, jsonlPath, publisher: new EventBridgeAlertPublisher(client, 'pdm-bus') };
}

describe('createLocalAlerting', () => {
  it('routes published alerts to the severity topics and every change to the transitions log', async () => {
    // Arrange
    const { alerting, hook, lines, jsonlPath, publisher } = await start();
    // Act
    const result = await publisher.publish([alert(1, 'critical', 'site-a'), alert(2, 'warning', 'site-b'), alert(3, 'info', 'site-a')]);
    await alerting.idle();
    // Assert
    expect(result.failed).toEqual([]);
    const records = (await readFile(jsonlPath, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { kind: string; topic?: string; message?: string; messageAttributes?: unknown; event?: { detail: { alertId: string } } });
    const sns = records.filter((r) => r.kind === 'sns');
    expect(sns.map((r) => r.topic).sort()).toEqual(['critical', 'warning']);
    const critical = sns.find((r) => r.topic === 'critical')!;
    // The SNS message is the whole EventBridge envelope, as an EventBridge→SNS target sends it.
    expect(JSON.parse(critical.message!)).toMatchObject({ source: 'pdm.twin', 'detail-type': 'TwinHealthChanged', account: '000000000000', detail: { alertId: 'alert-1' } });
    expect(critical.messageAttributes).toEqual({
      severity: { DataType: 'String', StringValue: 'critical' },
      siteId: { DataType: 'String', StringValue: 'site-a' },
      assetModel: { DataType: 'String', StringValue: 'turbofan' },
    });
    const transitions = records.filter((r) => r.kind === 'transition').map((r) => r.event!.detail.alertId);
    expect(transitions.sort()).toEqual(['alert-1', 'alert-2', 'alert-3']);
    expect(hook.received).toHaveLength(2);
    expect(lines.filter((l) => l.startsWith('[transition'))).toHaveLength(3);
    expect(lines.filter((l) => l.startsWith('[sns'))).toHaveLength(2);
  });

  it('applies subscription filter policies to alerts coming through EventBridge', async () => {
    // Arrange: only critical alerts of site-a, once by attributes and once by message body.
    const { alerting, hook, publisher } = await start([
      { topic: 'critical', id: 'by-attributes', filterPolicy: { severity: ['critical'], siteId: ['site-a'] } },
      { topic: 'critical', id: 'by-body', filterPolicy: { detail: { severity: ['critical'], siteId: ['site-a'] } }, filterPolicyScope: 'MessageBody' },
    ]);
    // Act
    await publisher.publish([alert(1, 'critical', 'site-a'), alert(2, 'critical', 'site-b'), alert(3, 'warning', 'site-a')]);
    await alerting.idle();
    // Assert
    const delivered = hook.received.map((r) => ({
      sub: String(r.headers['x-amz-sns-subscription-arn']).split(':').pop(),
      alertId: (JSON.parse((JSON.parse(r.body) as { Message: string }).Message) as { detail: { alertId: string } }).detail.alertId,
    }));
    expect(delivered.sort((a, b) => String(a.sub).localeCompare(String(b.sub)))).toEqual([
      { sub: 'by-attributes', alertId: 'alert-1' },
      { sub: 'by-body', alertId: 'alert-1' },
    ]);
    expect(alerting.sns.stats.filteredOut).toBe(2);
  });

  it('rejects routes with a malformed pattern before listening', async () => {
    await expect(
      createLocalAlerting({ routes: [{ id: 'bad', description: '', target: 'critical-topic', pattern: { detail: { severity: 'critical' } } }] }),
    ).rejects.toBeInstanceOf(InvalidEventPatternError);
  });
});
