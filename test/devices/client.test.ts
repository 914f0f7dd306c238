import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Aedes } from 'aedes';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createDeviceClient,
  DeviceCertificateError,
  DeviceConnectError,
  runFleet,
  TopicNotOwnedError,
} from '../../devices/client.ts';
import { realismPreset } from '../../devices/faults.ts';
import { createFleet, type DeviceMessage, FleetSimulator } from '../../devices/fleet.ts';
import { parseTopic } from '../../lambdas/core/contract/topics.ts';

let broker: Aedes;
let server: Server;
let url: string;
const refused: string[] = [];

beforeAll(async () => {
  // Like the IoT policy: a client may publish only to topics of the asset named by its client id.
  broker = await Aedes.createBroker({
    authorizePublish: (client, packet, done) => {
      if (client && parseTopic(packet.topic)?.assetId !== client.id) {
        refused.push(packet.topic);
        done(new Error('not your topic'));
      } else done(null);
    },
  });
  server = createServer(broker.handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  url = `mqtt://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => broker.close(() => resolve()));
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** Subscribes to every pdm topic and collects payloads per asset, in arrival order. */
async function subscriber() {
  const sub = await mqtt.connectAsync(url, { clientId: `observer-${Math.random()}` });
  const received = new Map<string, string[]>();
  sub.on('message', (topic, payload) => {
    const asset = parseTopic(topic)?.assetId ?? '?';
    received.set(asset, [...(received.get(asset) ?? []), `${topic} ${payload.toString()}`]);
  });
  await sub.subscribeAsync('pdm/#', { qos: 1 });
  return { sub, received };
}

function byAsset(messages: readonly DeviceMessage[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const m of messages) out.set(m.assetId, [...(out.get(m.assetId) ?? []), `${m.topic} ${m.payload}`]);
  return out;
}

describe('runFleet', () => {
  it('publishes every message over its own device connection, in order per device', async () => {
    const options = { seed: 3, realism: realismPreset(['outOfOrder', 'duplicates']) };
    const fleet = createFleet({ assets: 4, seed: 3, failingShare: 1, degradationTicks: 5 });
    const expected = new FleetSimulator(fleet, options);
    const want: DeviceMessage[] = [];
    for (let t = 0; t < 80; t++) want.push(...expected.step());
    want.push(...expected.flush());
    const { sub, received } = await subscriber();
    const clientIds: string[] = [];
    broker.on('client', (c) => clientIds.push(c.id));

    const summary = await runFleet({ simulator: new FleetSimulator(fleet, options), brokerUrl: url, ticks: 80, speed: Number.POSITIVE_INFINITY });
    await new Promise((r) => setTimeout(r, 200));
    await sub.endAsync();

    expect(summary.messages).toEqual({ generated: want.length, published: want.length, failed: 0 });
    expect(received).toEqual(byAsset(want));
    expect(fleet.every((a) => clientIds.includes(a.assetId))).toBe(true);
    expect(want.some((m) => m.topic.endsWith('/maintenance'))).toBe(true);
    expect(refused).toEqual([]);
  });

  it('paces ticks in real time by speed', async () => {
    const sim = new FleetSimulator(createFleet({ assets: 2 }), { intervalMs: 60_000 });
    // 60 simulated seconds per tick at 600× = 100 ms per tick: 4 ticks span at least 300 ms.
    const summary = await runFleet({ simulator: sim, brokerUrl: url, ticks: 4, speed: 600 });
    expect(summary.ticks).toBe(4);
    expect(summary.elapsedMs).toBeGreaterThanOrEqual(290);
    expect(summary.simulatedMs).toBe(240_000);
  });

  it('refuses to start when a device certificate is missing, before connecting anything', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pdm-certs-'));
    writeFileSync(join(dir, 'ca.pem'), '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    const sim = new FleetSimulator(createFleet({ assets: 1 }));
    await expect(
      runFleet({ simulator: sim, iot: { endpoint: 'example.invalid', certDir: dir, ca: join(dir, 'ca.pem') }, ticks: 1 }),
    ).rejects.toThrow(new RegExp(`device certificate for pump-001: ${join(dir, 'pump-001.cert.pem')} not found`));
    expect(sim.tick).toBe(0);
  });
});

describe('createDeviceClient', () => {
  it('fails with DeviceCertificateError naming a missing certificate file', async () => {
    const attempt = createDeviceClient({
      assetId: 'pump-001',
      iot: { endpoint: 'example.invalid', cert: '/nonexistent/pump-001.cert.pem', key: '/nonexistent/k', ca: '/nonexistent/ca' },
    });
    await expect(attempt).rejects.toBeInstanceOf(DeviceCertificateError);
    await expect(attempt).rejects.toThrow('/nonexistent/pump-001.cert.pem not found');
  });

  it('fails with DeviceCertificateError for a file that is not PEM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pdm-certs-'));
    writeFileSync(join(dir, 'cert'), 'hello');
    await expect(
      createDeviceClient({ assetId: 'pump-001', iot: { endpoint: 'example.invalid', cert: join(dir, 'cert'), key: join(dir, 'cert'), ca: join(dir, 'cert') } }),
    ).rejects.toThrow(/is not PEM/);
  });

  it('fails with DeviceConnectError when nothing listens', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const address = closed.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await expect(createDeviceClient({ assetId: 'pump-001', brokerUrl: `mqtt://127.0.0.1:${port}` })).rejects.toBeInstanceOf(
      DeviceConnectError,
    );
  });

  it("refuses to publish to another device's topic", async () => {
    const client = await createDeviceClient({ assetId: 'pump-001', brokerUrl: url });
    await expect(client.publish('pdm/site-a/pump-002/telemetry', '{}')).rejects.toBeInstanceOf(TopicNotOwnedError);
    await client.publish('pdm/site-a/pump-001/telemetry', '{}');
    expect(client.outstanding).toBe(0);
    await client.close();
  });

  it('bounds its queue of unacknowledged publishes', async () => {
    const client = await createDeviceClient({ assetId: 'pump-001', brokerUrl: url, maxQueue: 2 });
    const topic = 'pdm/site-a/pump-001/telemetry';
    const results = await Promise.allSettled([client.publish(topic, '1'), client.publish(topic, '2'), client.publish(topic, '3')]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected']);
    expect((results[2] as PromiseRejectedResult).reason.name).toBe('DeviceQueueFullError');
    await client.close();
  });
});
