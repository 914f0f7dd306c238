/**
 * The IoT Core stand-in: an aedes MQTT broker on a random loopback port. Its hooks play IoT Core:
 *
 * - authentication: a client connects only under a registered asset's id (the thing name) and with
 *   that device's credential (a per-device token standing in for the X.509 client certificate, see
 *   docs/local-mode.md); a second connection under the same id takes the session over, as on IoT Core,
 *   and is counted;
 * - the message broker's quotas ({@link IOT_CORE_LIMITS}): payload size, topic bytes and levels,
 *   no wildcards in a publish topic, client-id length;
 * - the device policy: publish only to `pdm/<its site>/<its id>/<kind>` for the kinds in
 *   {@link DEVICE_PUBLISH_KINDS}, and no subscribe at all.
 *
 * A refused publish closes the client, as IoT Core does for MQTT 3.1.1, and is counted with its reason.
 * aedes itself drops the connection for some malformed topics (wildcards, over 100 levels) before any
 * hook runs: its `clientError` event sees those, and they are counted with the same reasons.
 * An accepted message goes to `onMessage` (the rule bridge); the PUBACK waits until `onMessage`
 * resolves, so an acknowledged message is in the raw stream, and one the bridge cannot write is refused.
 */
import { timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Aedes, type Client } from 'aedes';
import { TOPIC_PREFIX } from '../../lambdas/core/contract/topics.ts';

/**
 * AWS IoT Core message broker quotas (AWS General Reference, "AWS IoT Core endpoints and quotas",
 * message broker and protocol limits: https://docs.aws.amazon.com/general/latest/gr/iot-core.html):
 * PUBLISH payload 128 KB ("the AWS IoT service rejects messages larger than this size"), topic size
 * 256 bytes of UTF-8, at most 7 forward slashes in a publish topic or subscribe filter, client ID
 * 128 bytes of UTF-8. Wildcards (`+`, `#`) are topic-filter syntax, never valid in a PUBLISH topic
 * (MQTT 3.1.1, 4.7.1).
 */
export const IOT_CORE_LIMITS = {
  maxPayloadBytes: 128 * 1024,
  maxTopicBytes: 256,
  maxTopicSlashes: 7,
  maxClientIdBytes: 128,
} as const;

/**
 * The device policy's publish resources, one row per topic kind: `pdm/${site}/${thing}/<kind>`.
 * A new device topic is one more entry here (and its IoT rule + policy statement in lib/).
 */
export const DEVICE_PUBLISH_KINDS: readonly string[] = ['telemetry', 'maintenance', 'events'];

/** Why a publish was refused. */
export type PublishRefusal =
  | 'empty_topic'
  | 'wildcard_in_topic'
  | 'topic_too_long'
  | 'topic_too_deep'
  | 'payload_too_large'
  | 'topic_not_allowed'
  | 'record_too_large'
  | 'rule_action_failed'
  | 'malformed_packet';

/** Why a connection was refused. */
export type ConnectRefusal = 'client_id_invalid' | 'unknown_client' | 'bad_credentials';

export interface BrokerCounters {
  /** Publishes that passed the policy and were written by the rule bridge. */
  accepted: number;
  /** Publishes refused (quotas, policy, the bridge), all reasons. */
  refusedPublishes: number;
  /** Connections refused (unregistered id, wrong credential, invalid id). */
  refusedConnects: number;
  /** Refused publishes by client id. */
  refusedBy: Record<string, number>;
  /** Refused publishes by {@link PublishRefusal}. */
  refusedByReason: Record<string, number>;
  /** Refused connections by {@link ConnectRefusal}. */
  connectsRefusedByReason: Record<string, number>;
  /** SUBSCRIBE requests refused (devices get no subscribe). */
  refusedSubscribes: number;
  /** Connections that took over the session of a connected client with the same id. */
  takeovers: number;
}

export interface DeviceMessageIn {
  readonly topic: string;
  readonly payload: Buffer;
  readonly clientId: string;
  /** Broker receive time, epoch ms (the IoT rule's `timestamp()`). */
  readonly receivedAt: number;
}

export interface LocalBrokerOptions {
  /** Site of a registered asset (its thing), or undefined when the id is not a registered asset. */
  readonly siteOf: (clientId: string) => string | undefined;
  /**
   * The device's credential (its token); undefined when the device has none. When the option itself
   * is absent, registered ids connect without a credential (tests of the policy alone).
   */
  readonly credentialOf?: (clientId: string) => string | undefined;
  /** Takes an accepted message; the PUBACK waits for it. A rejection refuses the publish. */
  readonly onMessage: (message: DeviceMessageIn) => void | Promise<void>;
  /** Receive time of a message from this client (the rule's `timestamp()`). @default Date.now */
  readonly now?: (clientId: string) => number;
}

export interface LocalBroker {
  readonly url: string;
  readonly port: number;
  readonly counters: BrokerCounters;
  /** Counts a publish refused before it reached the broker (a topic the MQTT client cannot encode). */
  refuse(clientId: string, reason: PublishRefusal): void;
  close(): Promise<void>;
}

export class PublishRefusedError extends Error {
  override readonly name: string = 'PublishRefusedError';
  constructor(
    readonly reason: PublishRefusal,
    message: string,
  ) {
    super(message);
  }
}

export class ConnectRefusedError extends Error {
  override readonly name: string = 'ConnectRefusedError';
  constructor(
    readonly reason: ConnectRefusal,
    message: string,
  ) {
    super(message);
  }
}

/** The rule bridge could not take or write a message; `reason` is counted. */
export class RuleActionError extends Error {
  override readonly name: string = 'RuleActionError';
  constructor(
    readonly reason: Extract<PublishRefusal, 'record_too_large' | 'rule_action_failed'>,
    message: string,
  ) {
    super(message);
  }
}

/** The message broker's own checks of a publish (IoT Core quotas), before the policy. */
export function checkPublishLimits(topic: string, payloadBytes: number): PublishRefusal | undefined {
  if (topic.length === 0) return 'empty_topic';
  if (topic.includes('+') || topic.includes('#')) return 'wildcard_in_topic';
  if (Buffer.byteLength(topic, 'utf8') > IOT_CORE_LIMITS.maxTopicBytes) return 'topic_too_long';
  let slashes = 0;
  for (let i = 0; i < topic.length; i++) if (topic.charCodeAt(i) === 47) slashes++;
  if (slashes > IOT_CORE_LIMITS.maxTopicSlashes) return 'topic_too_deep';
  if (payloadBytes > IOT_CORE_LIMITS.maxPayloadBytes) return 'payload_too_large';
  return undefined;
}

/** Whether `clientId` (registered at `site`) may publish to `topic`: the IoT policy, written out. */
export function mayPublish(topic: string, clientId: string, site: string | undefined): boolean {
  if (site === undefined) return false;
  const parts = topic.split('/');
  return (
    parts.length === 4 &&
    parts[0] === TOPIC_PREFIX &&
    parts[1] === site &&
    parts[2] === clientId &&
    DEVICE_PUBLISH_KINDS.includes(parts[3]!)
  );
}

/** Whether a client id is one IoT Core takes: 1 to 128 bytes of UTF-8. */
export function validClientId(clientId: string): boolean {
  const bytes = Buffer.byteLength(clientId, 'utf8');
  return bytes >= 1 && bytes <= IOT_CORE_LIMITS.maxClientIdBytes;
}

/** aedes's own refusals, raised before the authorization hook, by their messages. */
const AEDES_PUBLISH_ERRORS: readonly [RegExp, PublishRefusal][] = [
  [/^empty topic not allowed in PUBLISH/, 'empty_topic'],
  [/is not allowed in PUBLISH/, 'wildcard_in_topic'],
  [/^topic has too many levels/, 'topic_too_deep'],
];
/** Connection-level errors that are not a refused publish (timeouts, the peer going away). */
const NOT_A_PUBLISH = /keep ?alive|connect did not arrive|ECONNRESET|EPIPE|write after end|socket/i;

/** A record whose keys come from clients: no prototype, so `__proto__` or `constructor` are plain keys. */
function tally(): Record<string, number> {
  return Object.create(null) as Record<string, number>;
}

function bump(record: Record<string, number>, key: string): void {
  record[key] = (Object.hasOwn(record, key) ? record[key]! : 0) + 1;
}

function sameSecret(given: Buffer | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const want = Buffer.from(expected, 'utf8');
  return given.length === want.length && timingSafeEqual(given, want);
}

export async function startBroker(options: LocalBrokerOptions): Promise<LocalBroker> {
  const now = options.now ?? Date.now;
  const counters: BrokerCounters = {
    accepted: 0,
    refusedPublishes: 0,
    refusedConnects: 0,
    refusedBy: tally(),
    refusedByReason: tally(),
    connectsRefusedByReason: tally(),
    refusedSubscribes: 0,
    takeovers: 0,
  };
  const refuse = (clientId: string, reason: PublishRefusal) => {
    counters.refusedPublishes += 1;
    bump(counters.refusedBy, clientId);
    bump(counters.refusedByReason, reason);
  };
  const refuseConnect = (client: Client, reason: ConnectRefusal, message: string, returnCode: number) => {
    counters.refusedConnects += 1;
    bump(counters.connectsRefusedByReason, reason);
    return Object.assign(new ConnectRefusedError(reason, message), { returnCode });
  };
  const broker: Aedes = await Aedes.createBroker({
    // IoT Core's client-id quota (128 bytes) replaces aedes's MQTT 3.1 default of 23 characters.
    maxClientsIdLength: IOT_CORE_LIMITS.maxClientIdBytes,
    authenticate: (client: Client, _user, password, done) => {
      // MQTT 3.1.1 return codes: 2 identifier rejected, 4 bad user name or password, 5 not authorized.
      if (!validClientId(client.id)) return done(refuseConnect(client, 'client_id_invalid', 'client id is not 1 to 128 bytes', 2), false);
      if (options.siteOf(client.id) === undefined) {
        return done(refuseConnect(client, 'unknown_client', `client ${client.id} is not a registered thing`, 5), false);
      }
      if (options.credentialOf) {
        const secret = options.credentialOf(client.id);
        if (secret === undefined || !sameSecret(password, secret)) {
          return done(refuseConnect(client, 'bad_credentials', `client ${client.id} did not present its credential`, 4), false);
        }
      }
      // Same client id as a live connection: aedes closes the old one, as IoT Core does.
      // (`clients` is aedes's null-prototype map of live connections by id; its typings omit it.)
      if (Object.hasOwn((broker as unknown as { clients: object }).clients, client.id)) counters.takeovers += 1;
      done(null, true);
    },
    authorizeSubscribe: (client, sub, done) => {
      // The device policy grants no iot:Subscribe: SUBACK with the failure code (0x80).
      if (client !== null) counters.refusedSubscribes += 1;
      done(null, null as unknown as typeof sub);
    },
    authorizePublish: (client, packet, done) => {
      // Messages the broker itself publishes ($SYS, wills without a client) are not device messages.
      if (client === null) return done(null);
      const payload = Buffer.from(packet.payload);
      const site = options.siteOf(client.id);
      const reason =
        checkPublishLimits(packet.topic, payload.length) ?? (mayPublish(packet.topic, client.id, site) ? undefined : 'topic_not_allowed');
      if (reason !== undefined) {
        refuse(client.id, reason);
        return done(new PublishRefusedError(reason, `${client.id} may not publish to ${packet.topic.slice(0, 300)}: ${reason}`));
      }
      let taken: Promise<void>;
      try {
        taken = Promise.resolve(options.onMessage({ topic: packet.topic, payload, clientId: client.id, receivedAt: now(client.id) }));
      } catch (err) {
        taken = Promise.reject(err as Error);
      }
      taken.then(
        () => {
          counters.accepted += 1;
          done(null);
        },
        (err: unknown) => {
          const why = err instanceof RuleActionError ? err.reason : 'rule_action_failed';
          refuse(client.id, why);
          done(new PublishRefusedError(why, `${client.id}: ${(err as Error).message}`));
        },
      );
    },
  });
  broker.on('clientError', (client: Client, err: Error) => {
    if (err instanceof PublishRefusedError || err instanceof ConnectRefusedError) return; // counted where refused
    const known = AEDES_PUBLISH_ERRORS.find(([pattern]) => pattern.test(err.message));
    if (known) return refuse(client.id, known[1]);
    if ((err as NodeJS.ErrnoException).code !== undefined || NOT_A_PUBLISH.test(err.message)) return;
    // The parser could not read a packet: whatever it carried is refused, never silently lost.
    refuse(client.id, 'malformed_packet');
  });
  const server: Server = createServer(broker.handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    counters,
    refuse,
    close: async () => {
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
