import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { type DeviceMessageIn, type LocalBroker, mayPublish, startBroker } from '../../../local/runtime/broker.ts';

describe('mayPublish', () => {
  it('allows a device only its own telemetry, maintenance and events topics at its own site', () => {
    expect(mayPublish('pdm/site-a/pump-001/telemetry', 'pump-001', 'site-a')).toBe(true);
    expect(mayPublish('pdm/site-a/pump-001/maintenance', 'pump-001', 'site-a')).toBe(true);
    expect(mayPublish('pdm/site-a/pump-001/events', 'pump-001', 'site-a')).toBe(true);
    expect(mayPublish('pdm/site-a/pump-002/events', 'pump-001', 'site-a')).toBe(false);
    expect(mayPublish('pdm/site-a/pump-002/telemetry', 'pump-001', 'site-a')).toBe(false);
    expect(mayPublish('pdm/site-b/pump-001/telemetry', 'pump-001', 'site-a')).toBe(false);
    expect(mayPublish('pdm/site-a/pump-001/commands', 'pump-001', 'site-a')).toBe(false);
    expect(mayPublish('pdm/site-a/pump-001/telemetry/x', 'pump-001', 'site-a')).toBe(false);
    expect(mayPublish('pdm/site-a/pump-001/telemetry', 'pump-001', undefined)).toBe(false);
  });
});

describe('startBroker', () => {
  let broker: LocalBroker | undefined;
  afterEach(async () => {
    await broker?.close();
  });

  it('closes a device that publishes to a foreign topic, counts it and forwards nothing from it', async () => {
    // Arrange
    const received: DeviceMessageIn[] = [];
    const sites = new Map([
      ['pump-001', 'site-a'],
      ['pump-002', 'site-a'],
    ]);
    broker = await startBroker({ siteOf: (id) => sites.get(id), onMessage: (m) => received.push(m), now: () => 42 });
    const device = await mqtt.connectAsync(broker.url, { clientId: 'pump-001', reconnectPeriod: 0 });
    device.on('error', () => undefined);
    const closed = new Promise<void>((resolve) => device.once('close', () => resolve()));

    // Act
    await device.publishAsync('pdm/site-a/pump-001/telemetry', '{"own":true}', { qos: 1 });
    void device.publishAsync('pdm/site-a/pump-002/telemetry', '{"foreign":true}', { qos: 1 }).catch(() => undefined);
    await closed;

    // Assert
    expect(received.map((m) => [m.topic, m.payload.toString(), m.clientId, m.receivedAt])).toEqual([
      ['pdm/site-a/pump-001/telemetry', '{"own":true}', 'pump-001', 42],
    ]);
    expect(broker.counters.refusedPublishes).toBe(1);
    expect(broker.counters.refusedBy).toEqual({ 'pump-001': 1 });
    device.end(true);
  });

  it('refuses a connection whose client id is not a registered thing', async () => {
    broker = await startBroker({ siteOf: () => undefined, onMessage: () => undefined });
    await expect(mqtt.connectAsync(broker.url, { clientId: 'ghost', reconnectPeriod: 0 })).rejects.toThrow();
    expect(broker.counters.refusedConnects).toBe(1);
  });
});
