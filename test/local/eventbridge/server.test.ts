import { EventBridgeClient, ListRulesCommand, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { afterEach, describe, expect, it } from 'vitest';
import { EventBridgeAlertPublisher } from '../../../lambdas/adapters/aws/eventbridge.ts';
import type { TwinHealthChangedDetail } from '../../../lambdas/core/alerts/policy.ts';
import { ALERT_ROUTES, type AlertRoute } from '../../../lambdas/core/alerts/rules.ts';
import { InvalidEventPatternError } from '../../../local/eventbridge/matcher.ts';
import {
  type EventEnvelope,
  type LocalEventBridge,
  type LocalRoute,
  PUT_EVENTS_MAX_BYTES,
  startLocalEventBridge,
} from '../../../local/eventbridge/server.ts';

const clientFor = (endpoint: string, region = 'eu-central-1') =>
  new EventBridgeClient({ region, endpoint, credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, maxAttempts: 1 });

const open: { bus: LocalEventBridge; client: EventBridgeClient }[] = [];
afterEach(async () => {
  for (const { bus, client } of open.splice(0)) {
    client.destroy();
    await bus.stop();
  }
});

async function start<R extends LocalRoute>(routes: readonly R[], onDelivery?: (r: R, e: EventEnvelope) => void | Promise<void>) {
  const deliveries: { route: string; event: EventEnvelope }[] = [];
  const bus = await startLocalEventBridge<R>({
    routes,
    onDelivery: onDelivery ?? ((route, event) => void deliveries.push({ route: route.id, event })),
    onError: () => undefined,
  });
  const client = clientFor(bus.endpoint);
  open.push({ bus, client });
  return { bus, client, deliveries };
}

const alert = (n: number, severity: TwinHealthChangedDetail['severity']): TwinHealthChangedDetail => ({
  version: '1',
  alertId: `alert-${n}`,
  assetId: `pump-${n}`,
  siteId: 'site-a',
  assetModel: 'centrifugal-pump',
  scope: 'asset',
  from: 'WATCH',
  to: severity === 'critical' ? 'CRITICAL' : severity === 'warning' ? 'WARNING' : 'NORMAL',
  severity,
  at: '2024-05-01T12:00:00.000Z',
  seq: n,
  scores: { risk: 0.9, anomaly: 0.8, failureProbability: null, rul: null, rulUnit: 'hours' },
  topContributors: [],
  estimatedCostAvoidedUsd: 100,
});

describe('startLocalEventBridge', () => {
  it('accepts PutEvents from the real EventBridgeClient and delivers full envelopes to matching routes', async () => {
    // Arrange
    const { bus, client, deliveries } = await start([{ id: 'all', pattern: { source: ['app'] } }]);
    const time = new Date('2024-05-01T12:34:56.789Z');
    // Act
    const res = await client.send(
      new PutEventsCommand({
        Entries: [
          { Source: 'app', DetailType: 'Thing', Detail: '{"a":1,"b":{"c":[1,2]}}', Resources: ['arn:r:1'], Time: time },
          { Source: 'app', DetailType: 'Thing', Detail: '{}' },
        ],
      }),
    );
    await bus.idle();
    // Assert
    expect(res.FailedEntryCount).toBe(0);
    expect(res.Entries).toHaveLength(2);
    expect(res.Entries?.every((e) => typeof e.EventId === 'string' && e.EventId.length > 0)).toBe(true);
    expect(deliveries.map((x) => x.event.id)).toEqual(res.Entries?.map((e) => e.EventId));
    expect(deliveries[0]!.event).toEqual({
      version: '0',
      id: res.Entries?.[0]?.EventId,
      'detail-type': 'Thing',
      source: 'app',
      account: '000000000000',
      time: '2024-05-01T12:34:56Z',
      region: 'eu-central-1',
      resources: ['arn:r:1'],
      detail: { a: 1, b: { c: [1, 2] } },
    });
    expect(deliveries[1]!.event.resources).toEqual([]);
  });

  it('answers invalid entries with per-entry error codes and still accepts the valid ones', async () => {
    // Arrange
    const { bus, client, deliveries } = await start([{ id: 'all', pattern: { source: [{ exists: true }] } }]);
    // Act
    const res = await client.send(
      new PutEventsCommand({
        Entries: [
          { Source: 'app', DetailType: 'T', Detail: '[1,2]' },
          { Source: 'app', DetailType: 'T', Detail: 'not json' },
          { DetailType: 'T', Detail: '{}' },
          { Source: 'app', Detail: '{}' },
          { Source: 'app', DetailType: 'T' },
          { Source: 'app', DetailType: 'T', Detail: '{"ok":true}' },
        ],
      }),
    );
    await bus.idle();
    // Assert
    expect(res.FailedEntryCount).toBe(5);
    expect(res.Entries?.map((e) => e.ErrorCode ?? 'ok')).toEqual(['MalformedDetail', 'MalformedDetail', 'InvalidArgument', 'InvalidArgument', 'InvalidArgument', 'ok']);
    expect(res.Entries?.[2]?.ErrorMessage).toContain('Source');
    expect(res.Entries?.[3]?.ErrorMessage).toContain('DetailType');
    expect(res.Entries?.[4]?.ErrorMessage).toContain('Detail');
    expect(deliveries.map((x) => x.event.detail)).toEqual([{ ok: true }]);
    expect(bus.stats).toMatchObject({ accepted: 1, rejected: 5 });
  });

  it('rejects more than 10 entries with a ValidationException', async () => {
    const { client } = await start([]);
    const entries = Array.from({ length: 11 }, () => ({ Source: 'app', DetailType: 'T', Detail: '{}' }));
    await expect(client.send(new PutEventsCommand({ Entries: entries }))).rejects.toMatchObject({ name: 'ValidationException' });
  });

  it('rejects a request whose entries exceed 256 KB in total', async () => {
    const { client } = await start([]);
    const big = JSON.stringify({ pad: 'x'.repeat(PUT_EVENTS_MAX_BYTES / 2) });
    const entries = [0, 1].map(() => ({ Source: 'app', DetailType: 'T', Detail: big }));
    await expect(client.send(new PutEventsCommand({ Entries: entries }))).rejects.toMatchObject({ name: 'ValidationException' });
  });

  it('accepts an entry just under 256 KB', async () => {
    const { client } = await start([]);
    // Source 3 bytes + DetailType 1 byte + Detail: the sum stays at the limit.
    const detail = JSON.stringify({ pad: 'x'.repeat(PUT_EVENTS_MAX_BYTES - 4 - 10) });
    const res = await client.send(new PutEventsCommand({ Entries: [{ Source: 'app', DetailType: 'T', Detail: detail }] }));
    expect(res.FailedEntryCount).toBe(0);
  });

  it('answers other operations with UnknownOperationException', async () => {
    // Arrange
    const { bus, client } = await start([]);
    // Act
    const viaSdk = await client.send(new ListRulesCommand({})).catch((err: unknown) => err);
    const raw = await fetch(bus.endpoint, { method: 'POST', headers: { 'x-amz-target': 'AWSEvents.DeleteRule', 'content-type': 'application/x-amz-json-1.1' }, body: '{}' });
    // Assert
    expect(viaSdk).toMatchObject({ name: 'UnknownOperationException', $metadata: { httpStatusCode: 400 } });
    expect(raw.status).toBe(400);
    expect(((await raw.json()) as { __type: string }).__type).toBe('UnknownOperationException');
  });

  it('answers a body that is not JSON with a SerializationException', async () => {
    const { bus } = await start([]);
    const raw = await fetch(bus.endpoint, { method: 'POST', headers: { 'x-amz-target': 'AWSEvents.PutEvents' }, body: '{' });
    expect(raw.status).toBe(400);
    expect(((await raw.json()) as { __type: string }).__type).toBe('SerializationException');
  });

  it('keeps serving when a delivery throws, and counts the failure', async () => {
    // Arrange
    const { bus, client } = await start([{ id: 'boom', pattern: { source: ['app'] } }], () => {
      throw new Error('target down');
    });
    const entry = { Source: 'app', DetailType: 'T', Detail: '{}' };
    // Act
    await client.send(new PutEventsCommand({ Entries: [entry] }));
    const second = await client.send(new PutEventsCommand({ Entries: [entry] }));
    await bus.idle();
    // Assert
    expect(second.FailedEntryCount).toBe(0);
    expect(bus.stats).toMatchObject({ accepted: 2, delivered: 0, deliveryErrors: 2 });
  });

  it('refuses to start with a malformed route pattern', async () => {
    await expect(startLocalEventBridge({ routes: [{ id: 'bad', pattern: { source: 'app' } }], onDelivery: () => undefined })).rejects.toBeInstanceOf(
      InvalidEventPatternError,
    );
  });

  it('keeps only the configured number of recent events', async () => {
    // Arrange
    const bus = await startLocalEventBridge({ routes: [], onDelivery: () => undefined, keepEvents: 2 });
    const client = clientFor(bus.endpoint);
    open.push({ bus, client });
    // Act
    for (const n of [1, 2, 3]) await client.send(new PutEventsCommand({ Entries: [{ Source: 'app', DetailType: 'T', Detail: `{"n":${n}}` }] }));
    // Assert
    expect(bus.events.map((e) => e.event.detail.n)).toEqual([2, 3]);
  });

  it('routes alerts from the EventBridgeAlertPublisher by ALERT_ROUTES', async () => {
    // Arrange
    const { bus, client, deliveries } = await start<AlertRoute>(ALERT_ROUTES);
    const publisher = new EventBridgeAlertPublisher(client, 'pdm-bus');
    const severities = ['critical', 'warning', 'info'] as const;
    const alerts = Array.from({ length: 12 }, (_, i) => alert(i, severities[i % 3]!));
    // Act
    const result = await publisher.publish(alerts);
    await bus.idle();
    // Assert: 12 alerts in two PutEvents calls, each routed by its severity plus the transitions log.
    expect(result.failed).toEqual([]);
    const byRoute = (id: string) => deliveries.filter((x) => x.route === id).map((x) => x.event.detail.alertId);
    expect(byRoute('CriticalAlerts')).toEqual(['alert-0', 'alert-3', 'alert-6', 'alert-9']);
    expect(byRoute('WarningAlerts')).toEqual(['alert-1', 'alert-4', 'alert-7', 'alert-10']);
    expect(byRoute('AllTransitions')).toHaveLength(12);
    expect(bus.events.every((e) => e.eventBusName === 'pdm-bus')).toBe(true);
  });
});
