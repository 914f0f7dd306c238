import mqtt, { type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import {
  checkPublishLimits,
  DEVICE_PUBLISH_KINDS,
  type DeviceMessageIn,
  IOT_CORE_LIMITS,
  type LocalBroker,
  mayPublish,
  startBroker,
  validClientId,
} from '../../../local/runtime/broker.ts';

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

  it('reads the allowed kinds from one table, and no inherited name passes', () => {
    for (const kind of DEVICE_PUBLISH_KINDS) expect(mayPublish(`pdm/site-a/pump-001/${kind}`, 'pump-001', 'site-a')).toBe(true);
    for (const kind of ['constructor', '__proto__', 'toString', 'length']) {
      expect(mayPublish(`pdm/site-a/pump-001/${kind}`, 'pump-001', 'site-a')).toBe(false);
    }
  });
});

describe('checkPublishLimits', () => {
  it.each([
    ['pdm/site-a/pump-001/telemetry', 10, undefined],
    ['', 10, 'empty_topic'],
    ['pdm/+/pump-001/telemetry', 10, 'wildcard_in_topic'],
    ['pdm/site-a/#', 10, 'wildcard_in_topic'],
    ['pdm/site-a/pump-001/telemetry#', 10, 'wildcard_in_topic'],
    [`pdm/${'s'.repeat(250)}/p/telemetry`, 10, 'topic_too_long'],
    [`pdm/${'é'.repeat(120)}/p/telemetry`, 10, undefined], // 256 bytes of UTF-8: the limit
    [`pdm/${'é'.repeat(121)}/p/telemetry`, 10, 'topic_too_long'],
    ['a/b/c/d/e/f/g/h', 10, undefined],
    ['a/b/c/d/e/f/g/h/i', 10, 'topic_too_deep'],
    ['pdm/site-a/pump-001/telemetry', IOT_CORE_LIMITS.maxPayloadBytes, undefined],
    ['pdm/site-a/pump-001/telemetry', IOT_CORE_LIMITS.maxPayloadBytes + 1, 'payload_too_large'],
  ])('judges topic %#', (topic, bytes, reason) => {
    expect(checkPublishLimits(topic, bytes)).toBe(reason);
  });

  it('takes client ids of 1 to 128 bytes', () => {
    expect(validClientId('pump-001')).toBe(true);
    expect(validClientId('x'.repeat(128))).toBe(true);
    expect(validClientId('x'.repeat(129))).toBe(false);
    expect(validClientId('é'.repeat(65))).toBe(false);
    expect(validClientId('')).toBe(false);
  });
});

describe('startBroker', () => {
  let broker: LocalBroker | undefined;
  const clients: MqttClient[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.end(true);
    await broker?.close();
    broker = undefined;
  });

  const sites = new Map([
    ['pump-001', 'site-a'],
    ['pump-002', 'site-a'],
    ['constructor', 'site-a'],
  ]);
  const tokens = new Map([...sites.keys()].map((id) => [id, `token-of-${id}-0123456789`]));
  const start = async (received: DeviceMessageIn[] = []) =>
    (broker = await startBroker({
      siteOf: (id) => sites.get(id),
      credentialOf: (id) => tokens.get(id),
      onMessage: (m) => void received.push(m),
      now: () => 42,
    }));
  const connect = async (clientId: string, password: string | null = tokens.get(clientId) ?? null) => {
    const c = await mqtt.connectAsync(broker!.url, { clientId, reconnectPeriod: 0, ...(password !== null ? { username: clientId, password } : {}) });
    c.on('error', () => undefined);
    clients.push(c);
    return c;
  };
  /** Publishes and reports whether the broker acknowledged it or closed the connection. */
  const publish = (c: MqttClient, topic: string, payload: string | Buffer) =>
    Promise.race([
      c.publishAsync(topic, payload, { qos: 1 }).then(
        () => 'acked',
        () => 'closed',
      ),
      new Promise<string>((resolve) => c.once('close', () => resolve('closed'))),
    ]);

  it('closes a device that publishes to a foreign topic, counts it and forwards nothing from it', async () => {
    // Arrange
    const received: DeviceMessageIn[] = [];
    await start(received);
    const device = await connect('pump-001');

    // Act
    const own = await publish(device, 'pdm/site-a/pump-001/telemetry', '{"own":true}');
    const foreign = await publish(device, 'pdm/site-a/pump-002/telemetry', '{"foreign":true}');

    // Assert
    expect([own, foreign]).toEqual(['acked', 'closed']);
    expect(received.map((m) => [m.topic, m.payload.toString(), m.clientId, m.receivedAt])).toEqual([
      ['pdm/site-a/pump-001/telemetry', '{"own":true}', 'pump-001', 42],
    ]);
    expect(broker!.counters.refusedPublishes).toBe(1);
    expect({ ...broker!.counters.refusedBy }).toEqual({ 'pump-001': 1 });
    expect({ ...broker!.counters.refusedByReason }).toEqual({ topic_not_allowed: 1 });
  });

  it('refuses and counts, with its reason, every publish over an IoT Core quota, including those aedes drops before its hooks', async () => {
    // Arrange
    const received: DeviceMessageIn[] = [];
    await start(received);
    const hostile: [string, string | Buffer][] = [
      ['pdm/site-a/pump-001/+', '{}'],
      ['pdm/site-a/#', '{}'],
      [Array.from({ length: 113 }, (_v, i) => `l${i}`).join('/'), '{}'],
      ['pdm/site-a/pump-001/telemetry/a/b/c/d/e', '{}'],
      [`pdm/site-a/pump-001/${'t'.repeat(300)}`, '{}'],
      ['pdm/site-a/pump-001/telemetry', Buffer.alloc(IOT_CORE_LIMITS.maxPayloadBytes + 1, 0x20)],
      ['pdm/site-a/pump-001/telemetry', Buffer.alloc(790_000, 0x20)],
    ];

    // Act: each on a fresh connection (a refusal closes the connection), then a valid one.
    const outcomes: string[] = [];
    for (const [topic, payload] of hostile) outcomes.push(await publish(await connect('pump-001'), topic, payload));
    const valid = await publish(await connect('pump-001'), 'pdm/site-a/pump-001/telemetry', '{}');
    await new Promise((r) => setTimeout(r, 50)); // the clientError event follows the close

    // Assert
    expect(outcomes).toEqual(hostile.map(() => 'closed'));
    expect(valid).toBe('acked');
    expect(received).toHaveLength(1);
    expect(broker!.counters.refusedPublishes).toBe(hostile.length);
    expect({ ...broker!.counters.refusedByReason }).toEqual({
      wildcard_in_topic: 2,
      topic_too_deep: 2,
      topic_too_long: 1,
      payload_too_large: 2,
    });
  });

  it('refuses a connection without the device\'s credential or under an unregistered id, and counts why', async () => {
    await start();

    await expect(connect('pump-001', null)).rejects.toThrow();
    await expect(connect('pump-001', tokens.get('pump-002')!)).rejects.toThrow();
    await expect(connect('ghost', 'whatever-0123456789')).rejects.toThrow();
    await expect(connect('x'.repeat(129), 'whatever-0123456789')).rejects.toThrow();
    const ok = await connect('pump-001');

    expect(ok.connected).toBe(true);
    expect(broker!.counters.refusedConnects).toBe(4);
    expect({ ...broker!.counters.connectsRefusedByReason }).toEqual({ bad_credentials: 2, unknown_client: 1, client_id_invalid: 1 });
    expect(broker!.counters.refusedPublishes).toBe(0);
  });

  it('grants a device no subscription, as the device policy has no iot:Subscribe', async () => {
    await start();
    const device = await connect('pump-001');

    const subscribing = device.subscribeAsync('#', { qos: 1 });

    // SUBACK 0x80 (failure): mqtt.js rejects the subscribe.
    await expect(subscribing).rejects.toThrow(/Subscribe error/);
    expect(broker!.counters.refusedSubscribes).toBe(1);
  });

  it('counts a connection that takes over a live session under the same client id', async () => {
    await start();
    const first = await connect('pump-002');
    const firstClosed = new Promise<void>((resolve) => first.once('close', () => resolve()));

    const second = await connect('pump-002');
    await firstClosed;

    expect(second.connected).toBe(true);
    expect(broker!.counters.takeovers).toBe(1);
  });

  it('keeps counts under client ids that are names of Object.prototype', async () => {
    await start();
    const device = await connect('constructor');

    expect(await publish(device, 'pdm/site-a/pump-001/telemetry', '{}')).toBe('closed');

    expect(broker!.counters.refusedBy.constructor).toBe(1);
    expect(Object.keys(broker!.counters.refusedBy)).toEqual(['constructor']);
  });
});
