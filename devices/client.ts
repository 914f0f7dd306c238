/**
 * Device client: publishes one device's messages over MQTT with QoS 1, to a local broker or to AWS IoT
 * Core over mutual TLS, and a fleet runner that paces the simulator in real time with one connection
 * per device, as real devices connect.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { parseTopic } from '../lambdas/core/contract/topics.ts';
import type { FaultKind, InjectedFault } from './faults.ts';
import type { DeviceMessage, FleetSimulator } from './fleet.ts';

/** A certificate, key or CA file cannot be used; the message names the device, the file and the fix. */
export class DeviceCertificateError extends Error {
  override readonly name: string = 'DeviceCertificateError';
}

/** The first connection attempt failed (refused, TLS or authorisation error, timeout). */
export class DeviceConnectError extends Error {
  override readonly name: string = 'DeviceConnectError';
}

/** The device's bounded queue of unacknowledged publishes is full; the message was not queued. */
export class DeviceQueueFullError extends Error {
  override readonly name: string = 'DeviceQueueFullError';
}

/** A device may publish only to its own topics (the IoT policy refuses the others and drops the connection). */
export class TopicNotOwnedError extends Error {
  override readonly name: string = 'TopicNotOwnedError';
}

/** Contradictory or missing connection options. */
export class DeviceClientOptionsError extends Error {
  override readonly name: string = 'DeviceClientOptionsError';
}

/** Mutual-TLS connection to AWS IoT Core for one device. */
export interface IotDeviceConnection {
  /** Account's data endpoint: `aws iot describe-endpoint --endpoint-type iot:Data-ATS`. */
  readonly endpoint: string;
  /** Device certificate (PEM) file. */
  readonly cert: string;
  /** Device private key (PEM) file. */
  readonly key: string;
  /** Amazon root CA (PEM) file, e.g. AmazonRootCA1.pem. */
  readonly ca: string;
  /** 8883, or 443 with ALPN `x-amzn-mqtt-ca` where 8883 is blocked. @default 8883 */
  readonly port?: 8883 | 443;
}

export interface DeviceClientOptions {
  /** The asset id: MQTT client id and, on IoT Core, the thing name. */
  readonly assetId: string;
  /** Local broker, e.g. `mqtt://127.0.0.1:1883`. Exactly one of `brokerUrl` and `iot`. */
  readonly brokerUrl?: string;
  /**
   * The device's credential on the local broker (its token, sent as the MQTT password with the
   * client id as user name), standing in for IoT Core's client certificate. Local broker only.
   */
  readonly credential?: string;
  readonly iot?: IotDeviceConnection;
  /** 4 = MQTT 3.1.1, 5 = MQTT 5; IoT Core accepts both. @default 4 */
  readonly protocolVersion?: 4 | 5;
  /** Unacknowledged publishes (in flight or queued while offline) a device keeps. @default 1000 */
  readonly maxQueue?: number;
  /** Delay between reconnect attempts. @default 1000 */
  readonly reconnectPeriodMs?: number;
  /** How long the first connection may take. @default 10000 */
  readonly connectTimeoutMs?: number;
  /** MQTT keep-alive; IoT Core accepts 30–1200 s. @default 60 */
  readonly keepaliveSeconds?: number;
  /** Connection events after the first connect (reconnects, errors); never thrown. */
  readonly onEvent?: (event: DeviceClientEvent) => void;
  /** Topic actually published for a device topic, e.g. its Basic Ingest form (lib/ingest/topics.ts). @default the topic itself */
  readonly wireTopic?: (topic: string) => string;
}

export type DeviceClientEvent =
  | { readonly type: 'reconnect' | 'offline' | 'connect'; readonly assetId: string }
  | { readonly type: 'error'; readonly assetId: string; readonly error: Error };

export interface DeviceClient {
  readonly assetId: string;
  /** Publishes with QoS 1; resolves on PUBACK. Rejects for foreign topics and when the queue is full. */
  publish(topic: string, payload: string): Promise<void>;
  /** Publishes not yet acknowledged. */
  readonly outstanding: number;
  readonly connected: boolean;
  /** Waits for outstanding publishes up to `drainMs` (default 5000), then disconnects. */
  close(drainMs?: number): Promise<void>;
}

function readPem(assetId: string, what: string, path: string, hint: string): Buffer {
  let text: Buffer;
  try {
    if (!statSync(path).isFile()) throw new DeviceCertificateError(`${what} for ${assetId}: ${path} is not a file. ${hint}`);
    text = readFileSync(path);
  } catch (e) {
    if (e instanceof DeviceCertificateError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'not found' : code === 'EACCES' ? 'not readable (permissions)' : String(e);
    throw new DeviceCertificateError(`${what} for ${assetId}: ${path} ${why}. ${hint}`);
  }
  if (!text.includes('-----BEGIN ')) throw new DeviceCertificateError(`${what} for ${assetId}: ${path} is not PEM (no "-----BEGIN" line). ${hint}`);
  return text;
}

/** Resolves the MQTT URL and TLS options; throws the named errors before any network activity. */
export function connectionOptions(opts: DeviceClientOptions): { url: string; options: IClientOptions } {
  if ((opts.brokerUrl === undefined) === (opts.iot === undefined))
    throw new DeviceClientOptionsError('give exactly one of brokerUrl (local broker) and iot (AWS IoT Core)');
  const options: IClientOptions = {
    clientId: opts.assetId,
    protocolVersion: opts.protocolVersion ?? 4,
    // The client's own store re-sends unacknowledged QoS 1 publishes after a reconnect; a persistent
    // broker session would only keep subscriptions, which a publish-only device has none of.
    clean: true,
    keepalive: opts.keepaliveSeconds ?? 60,
    reconnectPeriod: opts.reconnectPeriodMs ?? 1000,
    connectTimeout: opts.connectTimeoutMs ?? 10_000,
    queueQoSZero: false,
  };
  if (opts.brokerUrl !== undefined) {
    if (!/^mqtts?:\/\//.test(opts.brokerUrl))
      throw new DeviceClientOptionsError(`brokerUrl must start with mqtt:// or mqtts://, got "${opts.brokerUrl}"`);
    return {
      url: opts.brokerUrl,
      options: opts.credential !== undefined ? { ...options, username: opts.assetId, password: opts.credential } : options,
    };
  }
  const iot = opts.iot!;
  const hint = 'See docs/simulator.md, "AWS IoT Core".';
  const port = iot.port ?? 8883;
  return {
    url: `mqtts://${iot.endpoint}:${port}`,
    options: {
      ...options,
      cert: readPem(opts.assetId, 'device certificate', iot.cert, hint),
      key: readPem(opts.assetId, 'private key', iot.key, hint),
      ca: readPem(opts.assetId, 'root CA', iot.ca, hint),
      rejectUnauthorized: true,
      servername: iot.endpoint,
      ...(port === 443 ? { ALPNProtocols: ['x-amzn-mqtt-ca'] } : {}),
    },
  };
}

/**
 * Connects one device and resolves once the broker accepted it. Certificate problems reject with
 * {@link DeviceCertificateError} before any connection attempt; a failed first connection rejects with
 * {@link DeviceConnectError}. Later disconnections reconnect on their own.
 */
export async function createDeviceClient(opts: DeviceClientOptions): Promise<DeviceClient> {
  const { url, options } = connectionOptions(opts);
  const maxQueue = opts.maxQueue ?? 1000;
  const client: MqttClient = mqtt.connect(url, options);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`no CONNACK within ${options.connectTimeout} ms`)), options.connectTimeout);
    const fail = (err: Error) => {
      clearTimeout(timer);
      client.removeListener('connect', ok);
      client.removeListener('error', fail);
      client.end(true);
      reject(new DeviceConnectError(`${opts.assetId} could not connect to ${url}: ${err.message}`, { cause: err }));
    };
    const ok = () => {
      clearTimeout(timer);
      client.removeListener('error', fail);
      resolve();
    };
    client.once('connect', ok);
    client.once('error', fail);
  });
  const emit = opts.onEvent ?? (() => {});
  client.on('error', (error) => emit({ type: 'error', assetId: opts.assetId, error }));
  client.on('reconnect', () => emit({ type: 'reconnect', assetId: opts.assetId }));
  client.on('offline', () => emit({ type: 'offline', assetId: opts.assetId }));
  client.on('connect', () => emit({ type: 'connect', assetId: opts.assetId }));

  let outstanding = 0;
  const idle: Array<() => void> = [];
  const settle = () => {
    outstanding--;
    if (outstanding === 0) for (const f of idle.splice(0)) f();
  };
  return {
    assetId: opts.assetId,
    get outstanding() {
      return outstanding;
    },
    get connected() {
      return client.connected;
    },
    publish(topic, payload) {
      if (parseTopic(topic)?.assetId !== opts.assetId)
        return Promise.reject(new TopicNotOwnedError(`${opts.assetId} may publish only to pdm/{site}/${opts.assetId}/{telemetry|maintenance}, not "${topic}"`));
      if (outstanding >= maxQueue)
        return Promise.reject(new DeviceQueueFullError(`${opts.assetId}: ${outstanding} publishes unacknowledged (maxQueue ${maxQueue}); message dropped`));
      outstanding++;
      return client.publishAsync(opts.wireTopic ? opts.wireTopic(topic) : topic, payload, { qos: 1 }).then(
        () => settle(),
        (err: unknown) => {
          settle();
          throw err;
        },
      );
    },
    async close(drainMs = 5000) {
      if (outstanding > 0) {
        // The timer is cleared once drained, or it would keep the process alive for drainMs.
        let timer: NodeJS.Timeout | undefined;
        await new Promise<void>((resolve) => {
          idle.push(resolve);
          timer = setTimeout(resolve, drainMs);
        });
        clearTimeout(timer);
      }
      await client.endAsync(outstanding > 0);
    },
  };
}

/** Where a fleet connects: a local broker, or IoT Core with one certificate per device. */
export interface IotFleetConnection {
  readonly endpoint: string;
  readonly ca: string;
  /**
   * Folder holding `<assetId>.cert.pem` and `<assetId>.key.pem` per device. One of `certDir` and
   * `certFor`.
   */
  readonly certDir?: string;
  /** Certificate and key file per device, for other layouts. */
  readonly certFor?: (assetId: string) => { readonly cert: string; readonly key: string };
  /** @default 8883 */
  readonly port?: 8883 | 443;
}

/** Certificate and key paths of one device under `certDir`. */
export function certPaths(certDir: string, assetId: string): { cert: string; key: string } {
  return { cert: join(certDir, `${assetId}.cert.pem`), key: join(certDir, `${assetId}.key.pem`) };
}

export interface RunFleetOptions {
  readonly simulator: FleetSimulator;
  /** Local broker URL. Exactly one of `brokerUrl` and `iot`. */
  readonly brokerUrl?: string;
  /** Per-device credentials on the local broker (asset id → token); see `DeviceClientOptions.credential`. */
  readonly credentials?: ReadonlyMap<string, string>;
  readonly iot?: IotFleetConnection;
  /** Simulated seconds per real second; `Infinity` publishes without pacing. @default 1 */
  readonly speed?: number;
  /**
   * Real seconds to run; the simulation covers `duration × speed` simulated seconds (at least one tick).
   * One of `duration` and `ticks`; neither runs until `signal` aborts.
   */
  readonly duration?: number;
  /** Ticks to run instead of a duration. */
  readonly ticks?: number;
  /** MQTT protocol version for every device. @default 4 */
  readonly protocolVersion?: 4 | 5;
  /** Per-device bound on unacknowledged publishes. @default 1000 */
  readonly maxQueue?: number;
  /** Called once per PUBACK, in each device's publish order. */
  readonly onPublished?: (message: DeviceMessage) => void;
  /** Called when a publish fails or is dropped (queue full). */
  readonly onError?: (message: DeviceMessage, error: Error) => void;
  readonly onEvent?: (event: DeviceClientEvent) => void;
  /**
   * Receives the simulator's ground truth after each tick. The runner takes it from the simulator
   * (`takeGroundTruth`) so long runs keep bounded memory.
   */
  readonly onFaults?: (faults: readonly InjectedFault[]) => void;
  readonly signal?: AbortSignal;
  /** How long to wait for outstanding PUBACKs at the end. @default 10000 */
  readonly drainMs?: number;
  /** Topic actually published for each device topic (Basic Ingest). @default the topic itself */
  readonly wireTopic?: (topic: string) => string;
}

export interface RunFleetSummary {
  readonly devices: number;
  readonly ticks: number;
  readonly simulatedMs: number;
  readonly elapsedMs: number;
  readonly messages: { readonly generated: number; readonly published: number; readonly failed: number };
  /** Realism faults injected, by kind (empty without realism). */
  readonly faults: Partial<Record<FaultKind, number>>;
}

/** Ticks a run of `durationSeconds` real seconds covers at `speed`: tick 0 at the start, then one per interval. */
export function ticksFor(durationSeconds: number, speed: number, intervalMs: number): number {
  if (!Number.isFinite(speed)) throw new DeviceClientOptionsError('a duration needs a finite speed; give ticks instead');
  return Math.floor((durationSeconds * 1000 * speed) / intervalMs) + 1;
}

/**
 * Runs the simulator in real time: tick `i` is published `i × intervalMs / speed` ms after the start,
 * each asset over its own connection (client id = asset id), QoS 1. Held-back realism messages are
 * flushed at the end. Connection failures at the start reject; later publish failures go to `onError`.
 */
export async function runFleet(opts: RunFleetOptions): Promise<RunFleetSummary> {
  const sim = opts.simulator;
  const speed = opts.speed ?? 1;
  if (!(speed > 0)) throw new DeviceClientOptionsError(`speed must be > 0, got ${speed}`);
  if ((opts.brokerUrl === undefined) === (opts.iot === undefined))
    throw new DeviceClientOptionsError('give exactly one of brokerUrl and iot');
  if (opts.iot && (opts.iot.certDir === undefined) === (opts.iot.certFor === undefined))
    throw new DeviceClientOptionsError('iot needs exactly one of certDir and certFor');
  const ticks =
    opts.ticks ?? (opts.duration !== undefined ? ticksFor(opts.duration, speed, sim.intervalMs) : Number.POSITIVE_INFINITY);

  const connectionFor = (assetId: string): DeviceClientOptions => {
    const common = { assetId, protocolVersion: opts.protocolVersion, maxQueue: opts.maxQueue, onEvent: opts.onEvent, wireTopic: opts.wireTopic };
    if (opts.brokerUrl !== undefined) {
      const credential = opts.credentials?.get(assetId);
      return { ...common, brokerUrl: opts.brokerUrl, ...(credential !== undefined ? { credential } : {}) };
    }
    const iot = opts.iot!;
    const paths = iot.certFor ? iot.certFor(assetId) : certPaths(iot.certDir!, assetId);
    return { ...common, iot: { endpoint: iot.endpoint, ca: iot.ca, port: iot.port, ...paths } };
  };
  // Certificates are checked for every device before the first connection opens.
  const settings = sim.fleet.map((a) => connectionFor(a.assetId));
  for (const s of settings) connectionOptions(s);
  const connected = await Promise.allSettled(settings.map((s) => createDeviceClient(s)));
  const clients = new Map<string, DeviceClient>();
  for (const r of connected) if (r.status === 'fulfilled') clients.set(r.value.assetId, r.value);
  const failure = connected.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure) {
    await Promise.all([...clients.values()].map((c) => c.close(0)));
    throw failure.reason;
  }

  let generated = 0;
  let published = 0;
  let failed = 0;
  const faults: Partial<Record<FaultKind, number>> = {};
  const send = (m: DeviceMessage) => {
    generated++;
    const client = clients.get(m.assetId);
    if (!client) {
      failed++;
      opts.onError?.(m, new TopicNotOwnedError(`no device connection for ${m.assetId}`));
      return;
    }
    client.publish(m.topic, m.payload).then(
      () => {
        published++;
        opts.onPublished?.(m);
      },
      (err: Error) => {
        failed++;
        opts.onError?.(m, err);
      },
    );
  };
  const countFaults = () => {
    const taken = sim.takeGroundTruth();
    for (const f of taken) faults[f.kind] = (faults[f.kind] ?? 0) + 1;
    if (taken.length > 0) opts.onFaults?.(taken);
  };

  const started = performance.now();
  const tickRealMs = sim.intervalMs / speed;
  let done = 0;
  try {
    while (done < ticks && !opts.signal?.aborted) {
      const due = started + done * tickRealMs;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait, undefined, { signal: opts.signal }).catch(() => undefined);
      if (opts.signal?.aborted) break;
      for (const m of sim.step()) send(m);
      countFaults();
      done++;
    }
    for (const m of sim.flush()) send(m);
    countFaults();
  } finally {
    await Promise.all([...clients.values()].map((c) => c.close(opts.drainMs ?? 10_000)));
  }
  return {
    devices: clients.size,
    ticks: done,
    simulatedMs: done * sim.intervalMs,
    elapsedMs: Math.round(performance.now() - started),
    messages: { generated, published, failed },
    faults,
  };
}
