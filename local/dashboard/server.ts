/**
 * The local dashboard's HTTP server (`node:http`, no framework): the static page, a JSON API over a
 * `DashboardSource`, and live updates as Server-Sent Events. Safe by default: it binds to loopback,
 * answers only requests addressed to a loopback host name (no DNS rebinding), serves a fixed list of
 * files, and sends a strict Content-Security-Policy (the page builds its DOM with `textContent`).
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { z } from 'zod';
import { findAssetModel } from '../../lambdas/core/catalog/index.ts';
import type { AssetModel } from '../../lambdas/core/catalog/types.ts';
import { featureNames, featureVector } from '../../lambdas/core/features/index.ts';
import type { Twin } from '../../lambdas/core/twin/twin.ts';
import { DRIFT_PANEL_TTL_MS, DriftPanelCache } from './drift.ts';
import type { DashboardEvent, DashboardSource, FleetEntry } from './source.ts';
import { MAX_DEFER_DAYS, WhatIfInputError } from './whatif.ts';

export interface DashboardOptions {
  readonly source: DashboardSource;
  /** TCP port; 0 picks a free one. @default 0 */
  readonly port?: number;
  /** Interface to bind. Anything but loopback exposes fleet data to the network. @default '127.0.0.1' */
  readonly host?: string;
  /** Milliseconds between SSE heartbeats (comments that keep proxies and the browser from timing out). @default 15000 */
  readonly heartbeatMs?: number;
  /**
   * Least milliseconds between two computations of the drift panel: the page asks every minute and on
   * load, and a deployed stage answers with Athena queries. @default 60000
   */
  readonly driftCacheMs?: number;
  /** Clock of the drift cache. @default Date.now */
  readonly now?: () => number;
}

export interface DashboardHandle {
  /** Base URL, e.g. `http://127.0.0.1:8080/`. */
  readonly url: string;
  /** Closes event streams and the server. */
  stop(): Promise<void>;
}

const STATIC_DIR = join(import.meta.dirname, 'static');
const MIME: Readonly<Record<string, string>> = {
  html: 'text/html; charset=utf-8',
  css: 'text/css; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  svg: 'image/svg+xml',
};
const STATIC_NAME = /^[a-z0-9][a-z0-9-]*\.(html|css|js|svg)$/;
const MAX_BODY_BYTES = 16 * 1024;
const DEFAULT_HISTORY = 500;
const MAX_HISTORY = 5000;
const DEFAULT_ALERTS = 100;
const MAX_ALERTS = 1000;

const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cache-Control': 'no-store',
};

/** Body of `POST /api/whatif`. */
export const whatIfBodySchema = z.strictObject({
  assetId: z.string().min(1).max(200),
  component: z.string().min(1).max(200),
  deferDays: z.number().int().min(1).max(MAX_DEFER_DAYS),
});

class HttpError extends Error {
  override readonly name: string = 'HttpError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Loads the page's files once: only names in this folder are ever served, so no path reaches the disk. */
function loadStatic(): Map<string, { body: Buffer; type: string }> {
  const files = new Map<string, { body: Buffer; type: string }>();
  for (const name of readdirSync(STATIC_DIR)) {
    const m = STATIC_NAME.exec(name);
    if (!m) continue;
    files.set(name, { body: readFileSync(join(STATIC_DIR, name)), type: MIME[m[1]!]! });
  }
  return files;
}

/** Host names a loopback-bound server answers to; others are refused (DNS rebinding). */
function allowedHost(hostHeader: string | undefined, bound: string): boolean {
  if (!hostHeader) return false;
  const host = hostHeader.replace(/:\d+$/, '').replace(/^\[|\]$/g, '').toLowerCase();
  return host === 'localhost' || host === '127.0.0.1' || host === '::1' || host === bound.toLowerCase();
}

const isLoopback = (host: string) => host === '127.0.0.1' || host === '::1' || host === 'localhost';

/** JSON with NaN/±Infinity as null (JSON.stringify does that for numbers already; typed arrays are not used). */
function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': 'application/json; charset=utf-8' });
  res.end(text);
}

function parseLimit(raw: string | null, fallback: number, max: number): number {
  if (raw === null || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) throw new HttpError(400, `limit must be a whole number from 1 to ${max}, got "${raw}"`);
  const n = Number(raw);
  if (n < 1 || n > max) throw new HttpError(400, `limit must be a whole number from 1 to ${max}, got ${n}`);
  return n;
}

async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const type = req.headers['content-type'] ?? '';
  // Requiring JSON also keeps cross-site form posts out: browsers cannot send it without a preflight.
  if (!/^application\/json\b/i.test(type)) {
    throw new HttpError(415, 'POST body must be JSON (Content-Type: application/json)');
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, `body larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(buf);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (e) {
    throw new HttpError(400, `body is not valid JSON: ${(e as Error).message}`);
  }
}

/** Fleet row: what the overview needs, without the twin's internal state. */
function fleetRow(entry: FleetEntry) {
  const t = entry.twin;
  const sum = entry.summary;
  if (!t && sum) {
    return {
      assetId: entry.assetId,
      siteId: entry.siteId,
      modelId: entry.modelId,
      state: sum.state,
      components: sum.components,
      // The summary carries the headline scores; drivers and anomaly are in the asset view.
      scores: { ts: sum.lastTs, seq: sum.lastSeq, risk: sum.risk, failureProbability: sum.failureProbability, rul: sum.rul },
      lastSeq: sum.lastSeq,
      lastTs: sum.lastTs,
      samples: sum.samples,
    };
  }
  return {
    assetId: entry.assetId,
    siteId: entry.siteId,
    modelId: entry.modelId,
    state: t?.health.state ?? null,
    components: t ? Object.fromEntries(Object.entries(t.components).map(([k, c]) => [k, c.health.state])) : {},
    scores: t?.scores ?? null,
    lastSeq: t?.lastSeq ?? null,
    lastTs: t?.latest?.ts ?? null,
    samples: t?.samples ?? 0,
  };
}

/** Asset detail: the twin without its opaque internals, plus the current feature values by name. */
function assetView(entry: { assetId: string; siteId: string; modelId: string }, twin: Twin | null, model: AssetModel | undefined) {
  let features: Record<string, number | null> | null = null;
  if (twin && model && twin.lastT !== null) {
    try {
      const lastMaintenance: Record<string, number | null> = {};
      for (const [name, c] of Object.entries(twin.components)) lastMaintenance[name] = c.lastMaintenance?.t ?? null;
      const v = featureVector(twin.features, model, twin.lastT, {
        previousAnomaly: twin.lastAnomaly,
        lastMaintenance,
        firstSeen: twin.firstT,
        attributes: model.attributes,
      });
      const names = featureNames(model);
      features = {};
      for (let i = 0; i < names.length; i++) features[names[i]!] = Number.isFinite(v[i]!) ? v[i]! : null;
    } catch {
      features = null; // a state from another engine version: the twin is still worth showing
    }
  }
  return {
    assetId: entry.assetId,
    siteId: entry.siteId,
    modelId: entry.modelId,
    twin: twin
      ? {
          lastSeq: twin.lastSeq,
          firstT: twin.firstT,
          lastT: twin.lastT,
          samples: twin.samples,
          latest: twin.latest,
          scores: twin.scores,
          health: twin.health,
          components: twin.components,
          history: twin.history,
          // Recent device events (pdm.event.v1), oldest first.
          events: twin.events ?? [],
        }
      : null,
    features,
  };
}

/**
 * Starts the dashboard. API: `GET /api/models`, `/api/fleet`, `/api/assets/:id`,
 * `/api/assets/:id/history?limit=`, `/api/alerts?limit=`, `/api/drift`, `POST /api/whatif`, `GET /api/events` (SSE).
 */
export async function startDashboard(options: DashboardOptions): Promise<DashboardHandle> {
  const { source } = options;
  const host = options.host ?? '127.0.0.1';
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const files = loadStatic();
  const streams = new Set<ServerResponse>();
  const checkHost = isLoopback(host);
  const drift = new DriftPanelCache(() => source.drift(), options.driftCacheMs ?? DRIFT_PANEL_TTL_MS, options.now ?? Date.now);

  async function findEntry(assetId: string): Promise<FleetEntry> {
    const fleet = await source.fleet();
    const entry = fleet.find((e) => e.assetId === assetId);
    if (!entry) throw new HttpError(404, `unknown asset "${assetId}"`);
    return entry;
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (checkHost && !allowedHost(req.headers.host, host)) {
      throw new HttpError(421, 'this dashboard answers only to localhost');
    }
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    const method = req.method ?? 'GET';

    if (path === '/api/whatif') {
      if (method !== 'POST') throw new HttpError(405, 'use POST for /api/whatif');
      const parsed = whatIfBodySchema.safeParse(await readJsonBody(req));
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const where = issue && issue.path.length > 0 ? issue.path.join('.') : 'body';
        throw new HttpError(400, `invalid what-if request: ${where}: ${issue?.message ?? 'invalid'}`);
      }
      const body = parsed.data;
      const entry = await findEntry(body.assetId);
      const model = findAssetModel(entry.modelId);
      // Object.hasOwn, not `in`: "constructor", "toString" or "__proto__" are on every object's prototype.
      if (model && !Object.hasOwn(model.components, body.component)) {
        throw new HttpError(
          400,
          `invalid what-if request: component "${body.component}" is not a component of ${model.id} (${Object.keys(model.components).join(', ')})`,
        );
      }
      const twin = await source.twin(body.assetId);
      if (!twin || twin.lastT === null) throw new HttpError(409, `asset "${body.assetId}" has no telemetry yet`);
      try {
        sendJson(res, 200, await source.whatIf(body));
      } catch (e) {
        if (e instanceof WhatIfInputError) throw new HttpError(400, e.message);
        throw e;
      }
      return;
    }
    if (method !== 'GET' && method !== 'HEAD') throw new HttpError(405, `${method} is not allowed here`);

    if (path === '/' || path === '/index.html') return serveFile(res, 'index.html');
    if (path.startsWith('/static/')) return serveFile(res, path.slice('/static/'.length));
    if (path === '/api/models') return sendJson(res, 200, source.models());
    if (path === '/api/fleet') return sendJson(res, 200, (await source.fleet()).map(fleetRow));
    if (path === '/api/alerts') {
      return sendJson(res, 200, await source.alerts(parseLimit(url.searchParams.get('limit'), DEFAULT_ALERTS, MAX_ALERTS)));
    }
    if (path === '/api/drift') return sendJson(res, 200, await drift.get());
    if (path === '/api/events') return openStream(req, res);
    const m = /^\/api\/assets\/([^/]+)(\/history)?$/.exec(path);
    if (m) {
      let assetId: string;
      try {
        assetId = decodeURIComponent(m[1]!);
      } catch {
        throw new HttpError(400, 'asset id is not valid percent-encoding');
      }
      const entry = await findEntry(assetId);
      if (m[2]) {
        const limit = parseLimit(url.searchParams.get('limit'), DEFAULT_HISTORY, MAX_HISTORY);
        return sendJson(res, 200, await source.history(assetId, limit));
      }
      const twin = await source.twin(assetId);
      return sendJson(res, 200, assetView(entry, twin, findAssetModel(entry.modelId)));
    }
    throw new HttpError(404, `no such resource: ${path}`);
  }

  function serveFile(res: ServerResponse, name: string): void {
    const file = STATIC_NAME.test(name) ? files.get(name) : undefined;
    if (!file) throw new HttpError(404, 'no such file');
    res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': file.type, 'Content-Length': file.body.length });
    res.end(file.body);
  }

  function openStream(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'Content-Type': 'text/event-stream; charset=utf-8',
      Connection: 'keep-alive',
    });
    res.write('retry: 2000\n\n');
    const send = (event: DashboardEvent) => {
      res.write(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
    };
    const unsubscribe = source.subscribe(send);
    const heartbeat = setInterval(() => res.write(': heartbeat\n\n'), heartbeatMs);
    streams.add(res);
    let closed = false;
    // Both the request and the response report the disconnect; unsubscribe once.
    const close = () => {
      if (closed) return;
      closed = true;
      clearInterval(heartbeat);
      unsubscribe();
      streams.delete(res);
    };
    req.once('close', close);
    res.once('close', close);
  }

  const server: Server = createServer((req, res) => {
    route(req, res).catch((e: unknown) => {
      const status = e instanceof HttpError ? e.status : 500;
      const message = e instanceof HttpError ? e.message : 'internal error';
      if (status === 500) process.emitWarning(`dashboard: ${(e as Error)?.stack ?? String(e)}`);
      if (res.headersSent) {
        res.end();
        return;
      }
      sendJson(res, status, { error: message });
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${urlHost}:${address.port}/`,
    async stop() {
      for (const res of streams) res.end();
      streams.clear();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
