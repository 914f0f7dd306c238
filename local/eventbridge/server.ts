/**
 * A local EventBridge that speaks the `AWSEvents.PutEvents` wire protocol (JSON 1.1), so the unchanged
 * `EventBridgeClient` (and the project's `EventBridgeAlertPublisher`) publish to it by `endpoint` or
 * `AWS_ENDPOINT_URL`. Each accepted entry becomes a full event envelope, is matched against every
 * route with the in-repo matcher, and is handed to `onDelivery` once per matching route.
 *
 * Delivery is asynchronous, as on AWS: PutEvents answers once the events are accepted, not once the
 * targets ran. `idle()` waits for deliveries in flight (tests, orderly shutdown).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { compilePattern, type CompiledPattern, type EventPattern } from './matcher.ts';

/** Limits of PutEvents on AWS. */
export const PUT_EVENTS_MAX_ENTRIES = 10;
export const PUT_EVENTS_MAX_BYTES = 256 * 1024;
/** Account id in every local envelope. */
export const LOCAL_ACCOUNT = '000000000000';

/** The envelope EventBridge delivers to targets. */
export interface EventEnvelope {
  readonly version: '0';
  readonly id: string;
  readonly 'detail-type': string;
  readonly source: string;
  readonly account: string;
  /** ISO-8601 without milliseconds, as EventBridge writes it. */
  readonly time: string;
  readonly region: string;
  readonly resources: readonly string[];
  readonly detail: Readonly<Record<string, unknown>>;
}

export interface LocalRoute {
  readonly id: string;
  readonly pattern: EventPattern;
}

/** An accepted event and the ids of the routes it matched. */
export interface ReceivedEvent {
  readonly eventBusName: string;
  readonly event: EventEnvelope;
  readonly matchedRoutes: readonly string[];
}

export interface LocalEventBridgeOptions<R extends LocalRoute> {
  /** Rules: every pattern is validated at start (a malformed one rejects with `InvalidEventPatternError`). */
  readonly routes: readonly R[];
  /** Called once per (matching route, event); may be async. Its errors are reported via `onError`, never thrown. */
  readonly onDelivery: (route: R, event: EventEnvelope) => void | Promise<void>;
  /** Port on 127.0.0.1. @default 0 (a free port) */
  readonly port?: number;
  /** Region for envelopes when the request's SigV4 scope names none. @default 'us-east-1' */
  readonly region?: string;
  /** How many received events `events` keeps (oldest dropped first). @default 1000 */
  readonly keepEvents?: number;
  /** Reports a failed delivery. @default writes one line to stderr */
  readonly onError?: (route: R, event: EventEnvelope, error: unknown) => void;
  /** Clock for envelopes without `Time`, injectable for tests. @default () => new Date() */
  readonly now?: () => Date;
}

export interface LocalEventBridge {
  /** `http://127.0.0.1:<port>`: pass as `endpoint` or set `AWS_ENDPOINT_URL_EVENTBRIDGE`. */
  readonly endpoint: string;
  readonly port: number;
  /** The last `keepEvents` accepted events, oldest first. */
  readonly events: readonly ReceivedEvent[];
  /** Counters since start. */
  readonly stats: { readonly accepted: number; readonly rejected: number; readonly delivered: number; readonly deliveryErrors: number };
  /** Resolves when every delivery started so far has settled. */
  idle(): Promise<void>;
  /** Waits for deliveries in flight, then closes the server. Idempotent. */
  stop(): Promise<void>;
}

interface PutEventsEntry {
  readonly Source?: unknown;
  readonly DetailType?: unknown;
  readonly Detail?: unknown;
  readonly Resources?: unknown;
  readonly EventBusName?: unknown;
  readonly Time?: unknown;
}

type EntryResult = { EventId: string } | { ErrorCode: string; ErrorMessage: string };

class RequestError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

const JSON_11 = 'application/x-amz-json-1.1';
const utf8 = (s: string): number => Buffer.byteLength(s, 'utf8');

/** Entry size as AWS documents it: Time (14 bytes if set), Source, DetailType, Detail and each resource. */
export function entrySize(e: PutEventsEntry): number {
  let size = e.Time === undefined ? 0 : 14;
  if (typeof e.Source === 'string') size += utf8(e.Source);
  if (typeof e.DetailType === 'string') size += utf8(e.DetailType);
  if (typeof e.Detail === 'string') size += utf8(e.Detail);
  if (Array.isArray(e.Resources)) for (const r of e.Resources) if (typeof r === 'string') size += utf8(r);
  return size;
}

const isoSeconds = (d: Date): string => `${d.toISOString().slice(0, 19)}Z`;

/** Region from `Authorization: AWS4-HMAC-SHA256 Credential=<key>/<date>/<region>/events/aws4_request`. */
function regionOf(req: IncomingMessage): string | undefined {
  const auth = req.headers.authorization;
  const m = typeof auth === 'string' ? /Credential=[^/]+\/\d{8}\/([^/]+)\//.exec(auth) : null;
  return m?.[1];
}

function invalid(field: string, reason: string): EntryResult {
  return { ErrorCode: 'InvalidArgument', ErrorMessage: `Parameter ${field} is not valid. Reason: ${reason}` };
}

interface Accepted {
  readonly bus: string;
  readonly event: EventEnvelope;
}

function checkEntry(e: unknown, region: string, now: () => Date): EntryResult | Accepted {
  if (typeof e !== 'object' || e === null || Array.isArray(e)) return invalid('Entry', 'an entry must be an object.');
  const entry = e as PutEventsEntry;
  if (typeof entry.Source !== 'string' || entry.Source === '') return invalid('Source', 'Source is a required argument.');
  if (typeof entry.DetailType !== 'string' || entry.DetailType === '') {
    return invalid('DetailType', 'DetailType is a required argument.');
  }
  if (typeof entry.Detail !== 'string' || entry.Detail === '') return invalid('Detail', 'Detail is a required argument.');
  let detail: unknown;
  try {
    detail = JSON.parse(entry.Detail);
  } catch {
    return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
  }
  if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) {
    return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed: it must be a JSON object.' };
  }
  const resources = entry.Resources ?? [];
  if (!Array.isArray(resources) || !resources.every((r): r is string => typeof r === 'string')) {
    return invalid('Resources', 'Resources must be a list of strings.');
  }
  let time = now();
  if (entry.Time !== undefined) {
    // JSON 1.1 serialises timestamps as epoch seconds; accept ISO strings from hand-written clients too.
    const t = typeof entry.Time === 'number' ? new Date(entry.Time * 1000) : new Date(String(entry.Time));
    if (Number.isNaN(t.getTime())) return invalid('Time', 'Time is not a valid timestamp.');
    time = t;
  }
  const bus = typeof entry.EventBusName === 'string' && entry.EventBusName !== '' ? entry.EventBusName : 'default';
  return {
    bus,
    event: {
      version: '0',
      id: randomUUID(),
      'detail-type': entry.DetailType,
      source: entry.Source,
      account: LOCAL_ACCOUNT,
      time: isoSeconds(time),
      region,
      resources,
      detail: detail as Record<string, unknown>,
    },
  };
}

async function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new RequestError('ValidationException', 'Request body is too large.', 413);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function reply(res: ServerResponse, status: number, body: unknown, errorType?: string): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': JSON_11,
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': randomUUID(),
    ...(errorType ? { 'x-amzn-errortype': errorType } : {}),
  });
  res.end(text);
}

/** Starts the local EventBridge on 127.0.0.1. @throws InvalidEventPatternError for a malformed route pattern */
export async function startLocalEventBridge<R extends LocalRoute>(options: LocalEventBridgeOptions<R>): Promise<LocalEventBridge> {
  const compiled: { route: R; test: CompiledPattern }[] = options.routes.map((route) => ({
    route,
    test: compilePattern(route.pattern),
  }));
  const defaultRegion = options.region ?? 'us-east-1';
  const keep = Math.max(0, options.keepEvents ?? 1000);
  const now = options.now ?? (() => new Date());
  const onError =
    options.onError ??
    ((route: R, event: EventEnvelope, error: unknown) =>
      process.stderr.write(`[eventbridge] delivery of ${event.id} to ${route.id} failed: ${error instanceof Error ? error.message : String(error)}\n`));
  const events: ReceivedEvent[] = [];
  const stats = { accepted: 0, rejected: 0, delivered: 0, deliveryErrors: 0 };
  const inFlight = new Set<Promise<void>>();

  const deliver = (route: R, event: EventEnvelope): void => {
    const p = (async () => {
      try {
        await options.onDelivery(route, event);
        stats.delivered++;
      } catch (err) {
        stats.deliveryErrors++;
        try {
          onError(route, event, err);
        } catch {
          // A failing error reporter must not take the bus down.
        }
      }
    })();
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  };

  const putEvents = (body: unknown, region: string): { FailedEntryCount: number; Entries: EntryResult[] } => {
    const entries = (body as { Entries?: unknown } | null)?.Entries;
    if (!Array.isArray(entries) || entries.length === 0) {
      throw new RequestError('ValidationException', "1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length greater than or equal to 1");
    }
    if (entries.length > PUT_EVENTS_MAX_ENTRIES) {
      throw new RequestError(
        'ValidationException',
        `1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length less than or equal to ${PUT_EVENTS_MAX_ENTRIES}`,
      );
    }
    // The 256 KB limit applies to the sum of the entries, so one oversized entry fails the whole call.
    const total = entries.reduce((sum: number, e: unknown) => sum + (typeof e === 'object' && e !== null ? entrySize(e as PutEventsEntry) : 0), 0);
    if (total > PUT_EVENTS_MAX_BYTES) throw new RequestError('ValidationException', 'Total size of the entries in the request is over the limit.');
    const results: EntryResult[] = [];
    const accepted: Accepted[] = [];
    for (const e of entries) {
      const r = checkEntry(e, region, now);
      if ('event' in r) {
        accepted.push(r);
        results.push({ EventId: r.event.id });
      } else results.push(r);
    }
    const failed = results.length - accepted.length;
    stats.accepted += accepted.length;
    stats.rejected += failed;
    for (const { bus, event } of accepted) {
      const matched: string[] = [];
      for (const { route, test } of compiled) {
        if (test(event)) {
          matched.push(route.id);
          deliver(route, event);
        }
      }
      if (keep > 0) {
        events.push({ eventBusName: bus, event, matchedRoutes: matched });
        if (events.length > keep) events.splice(0, events.length - keep);
      }
    }
    return { FailedEntryCount: failed, Entries: results };
  };

  const server = createServer((req, res) => {
    void (async () => {
      try {
        if (req.method !== 'POST') throw new RequestError('UnknownOperationException', `Method ${req.method ?? ''} is not supported.`);
        const target = req.headers['x-amz-target'];
        // Read before answering so keep-alive connections stay usable after an error.
        const text = await readBody(req, 2 * 1024 * 1024);
        if (target !== 'AWSEvents.PutEvents') {
          throw new RequestError('UnknownOperationException', `Operation ${String(target ?? '(none)')} is not supported by the local EventBridge (only PutEvents).`);
        }
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          throw new RequestError('SerializationException', 'Request body is not valid JSON.');
        }
        reply(res, 200, putEvents(body, regionOf(req) ?? defaultRegion));
      } catch (err) {
        if (err instanceof RequestError) reply(res, err.status, { __type: err.type, message: err.message }, err.type);
        else reply(res, 500, { __type: 'InternalException', message: err instanceof Error ? err.message : String(err) }, 'InternalException');
      }
    })();
  });
  server.keepAliveTimeout = 5_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const idle = async (): Promise<void> => {
    while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
  };
  let stopping: Promise<void> | undefined;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    events,
    stats,
    idle,
    stop: () => {
      stopping ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeIdleConnections();
        });
        await idle();
      })();
      return stopping;
    },
  };
}
