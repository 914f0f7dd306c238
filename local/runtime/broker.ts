/**
 * The IoT Core stand-in: an aedes MQTT broker on a random loopback port. Its hooks play the device
 * policy: a client connects only under a registered asset's id (the thing name), and publishes only to
 * `pdm/<its site>/<its id>/telemetry|maintenance|events`. A refused publish closes the client, as IoT Core
 * does, and is counted. Accepted device messages go to `onMessage` (the rule bridge).
 */
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Aedes, type Client } from 'aedes';
import { TOPIC_PREFIX } from '../../lambdas/core/contract/topics.ts';

export interface BrokerCounters {
  /** Publishes that passed the policy. */
  accepted: number;
  /** Publishes refused by the policy (foreign or malformed topic). */
  refusedPublishes: number;
  /** Connections refused: the client id is not a registered asset. */
  refusedConnects: number;
  /** Refused publishes by client id. */
  refusedBy: Record<string, number>;
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
  readonly onMessage: (message: DeviceMessageIn) => void;
  /** @default Date.now */
  readonly now?: () => number;
}

export interface LocalBroker {
  readonly url: string;
  readonly port: number;
  readonly counters: BrokerCounters;
  close(): Promise<void>;
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
    (parts[3] === 'telemetry' || parts[3] === 'maintenance' || parts[3] === 'events')
  );
}

export class PublishRefusedError extends Error {
  override readonly name: string = 'PublishRefusedError';
}

export async function startBroker(options: LocalBrokerOptions): Promise<LocalBroker> {
  const now = options.now ?? Date.now;
  const counters: BrokerCounters = { accepted: 0, refusedPublishes: 0, refusedConnects: 0, refusedBy: {} };
  const broker = await Aedes.createBroker({
    authenticate: (client: Client, _user, _pass, done) => {
      if (options.siteOf(client.id) !== undefined) return done(null, true);
      counters.refusedConnects += 1;
      const err = Object.assign(new Error(`client ${client.id} is not a registered thing`), { returnCode: 5 });
      done(err, false);
    },
    authorizePublish: (client, packet, done) => {
      // Messages the broker itself publishes ($SYS, wills without a client) are not device messages.
      if (client === null) return done(null);
      if (!mayPublish(packet.topic, client.id, options.siteOf(client.id))) {
        counters.refusedPublishes += 1;
        counters.refusedBy[client.id] = (counters.refusedBy[client.id] ?? 0) + 1;
        return done(new PublishRefusedError(`${client.id} may not publish to ${packet.topic}`));
      }
      counters.accepted += 1;
      options.onMessage({ topic: packet.topic, payload: Buffer.from(packet.payload), clientId: client.id, receivedAt: now() });
      done(null);
    },
  });
  const server: Server = createServer(broker.handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    counters,
    close: async () => {
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
