import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFleet } from '../../../devices/fleet.ts';
import { MemoryDashboardSource } from '../../../local/dashboard/memory-source.ts';
import type { DashboardHandle } from '../../../local/dashboard/server.ts';
import { startDashboard } from '../../../local/dashboard/server.ts';
import type { DashboardSource } from '../../../local/dashboard/source.ts';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** Raw HTTP (no URL normalisation, any Host header), which `fetch` would not allow. */
function raw(base: string, path: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}) {
  const url = new URL(base);
  return new Promise<Reply>((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: url.port, path, method: init.method ?? 'GET', headers: init.headers ?? {} },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end(init.body);
  });
}

const postJson = (base: string, body: unknown) =>
  raw(base, '/api/whatif', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });

describe('startDashboard', () => {
  let memory: MemoryDashboardSource;
  let subscribers = 0;
  let server: DashboardHandle;

  beforeAll(async () => {
    memory = new MemoryDashboardSource({ fleet: createFleet({ assets: 3, seed: 2 }) });
    memory.step(40);
    // Counts live subscriptions, to see that a closed event stream unsubscribes.
    const source: DashboardSource = {
      models: () => memory.models(),
      fleet: () => memory.fleet(),
      twin: (id) => memory.twin(id),
      history: (id, n) => memory.history(id, n),
      alerts: (n) => memory.alerts(n),
      whatIf: (r) => memory.whatIf(r),
      drift: () => memory.drift(),
      subscribe: (listener) => {
        subscribers += 1;
        const off = memory.subscribe(listener);
        return () => {
          subscribers -= 1;
          off();
        };
      },
    };
    server = await startDashboard({ source, heartbeatMs: 50 });
  });

  afterAll(async () => {
    await server.stop();
  });

  it('binds to loopback on a free port by default', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
  });

  it('serves the page with a strict content security policy', async () => {
    const r = await raw(server.url, '/');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toContain('text/html');
    expect(r.headers['content-security-policy']).toContain("script-src 'self'");
    expect(r.body).toContain('/static/app.js');
    expect((await raw(server.url, '/static/app.js')).headers['content-type']).toContain('javascript');
  });

  it.each(['/static/../server.ts', '/static/%2e%2e/server.ts', '/static/..%2fserver.ts', '/static/server.ts', '/../package.json', '/static/'])(
    'does not serve %s',
    async (path) => {
      const r = await raw(server.url, path);
      expect(r.status).toBe(404);
      expect(r.body).not.toContain('import');
    },
  );

  it('refuses requests addressed to another host name (DNS rebinding)', async () => {
    const r = await raw(server.url, '/api/fleet', { headers: { Host: 'evil.example:80' } });
    expect(r.status).toBe(421);
  });

  it('lists the fleet with states and scores, without twin internals', async () => {
    const fleet = JSON.parse((await raw(server.url, '/api/fleet')).body) as Array<Record<string, unknown>>;
    expect(fleet.map((e) => e.assetId)).toEqual(memory.fleetAssets.map((a) => a.assetId));
    const twin = (await memory.twin(fleet[0]!.assetId as string))!;
    expect(fleet[0]).toMatchObject({ state: twin.health.state, lastSeq: twin.lastSeq, samples: twin.samples });
    expect(fleet[0]).not.toHaveProperty('features');
  });

  it('returns an asset with its named feature values, and 404 for an unknown one', async () => {
    const id = memory.fleetAssets[0]!.assetId;
    const asset = JSON.parse((await raw(server.url, `/api/assets/${id}`)).body) as {
      twin: { samples: number };
      features: Record<string, number | null>;
    };
    expect(asset.twin.samples).toBe(40);
    expect(Object.keys(asset.features).some((k) => k.startsWith('since_maint_'))).toBe(true);
    const missing = await raw(server.url, '/api/assets/nope-999');
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.body).error).toContain('unknown asset "nope-999"');
  });

  it('returns at most limit history points, newest last, and rejects a bad limit', async () => {
    const id = memory.fleetAssets[1]!.assetId;
    const points = JSON.parse((await raw(server.url, `/api/assets/${id}/history?limit=5`)).body) as Array<{ seq: number }>;
    expect(points.map((p) => p.seq)).toEqual([36, 37, 38, 39, 40]);
    const bad = await raw(server.url, `/api/assets/${id}/history?limit=abc`);
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body).error).toMatch(/limit must be a whole number/);
  });

  it('returns alerts newest first', async () => {
    const alerts = JSON.parse((await raw(server.url, '/api/alerts?limit=3')).body) as unknown[];
    expect(alerts).toEqual((await memory.alerts(3)) as unknown[]);
  });

  it('projects a what-if with one point per day', async () => {
    const asset = memory.fleetAssets.find((a) => a.modelId === 'industrial-machine')!;
    const r = await postJson(server.url, { assetId: asset.assetId, component: 'comp2', deferDays: 4 });
    expect(r.status).toBe(200);
    const body = JSON.parse(r.body) as { points: Array<{ day: number }>; method: string };
    expect(body.points.map((p) => p.day)).toEqual([0, 1, 2, 3, 4]);
  });

  it.each([
    [{ assetId: 'pump-001', component: 'bearing', deferDays: 0 }, 400, /deferDays/],
    [{ assetId: 'pump-001', component: 'bearing', deferDays: 'ten' }, 400, /deferDays/],
    [{ assetId: 'pump-001', component: 'bearing' }, 400, /deferDays/],
    [{ assetId: 'pump-001', component: 'bearing', deferDays: 3, extra: 1 }, 400, /invalid what-if request/],
    [{ assetId: 'pump-001', component: 'wing', deferDays: 3 }, 400, /component "wing" is not a component/],
    [{ assetId: 'ghost-1', component: 'bearing', deferDays: 3 }, 404, /unknown asset/],
    [{ assetId: 'constructor', component: 'bearing', deferDays: 3 }, 404, /unknown asset "constructor"/],
    [{ assetId: '__proto__', component: 'bearing', deferDays: 3 }, 404, /unknown asset "__proto__"/],
  ])('answers what-if %o with %i and a clear message', async (body, status, message) => {
    const r = await postJson(server.url, body);
    expect(r.status).toBe(status);
    expect(JSON.parse(r.body).error).toMatch(message);
  });

  it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf'])(
    'refuses the prototype name %s as a component with a 400 and a reason',
    async (component) => {
      const r = await postJson(server.url, { assetId: 'pump-001', component, deferDays: 3 });
      expect(r.status).toBe(400);
      expect(JSON.parse(r.body).error).toBe(
        `invalid what-if request: component "${component}" is not a component of centrifugal-pump (impeller, bearing, seal, motor)`,
      );
    },
  );

  it('refuses a body carrying a __proto__ key', async () => {
    const r = await raw(server.url, '/api/whatif', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{"assetId":"pump-001","component":"bearing","deferDays":3,"__proto__":{"deferDays":1}}',
    });
    expect(r.status).toBe(400);
    expect(JSON.parse(r.body).error).toMatch(/invalid what-if request/);
  });

  it('answers a component no model was trained on with a reason and no line', async () => {
    const r = await postJson(server.url, { assetId: 'pump-001', component: 'impeller', deferDays: 5 });
    expect(r.status).toBe(200);
    const body = JSON.parse(r.body) as { points: unknown[]; projectedDays: number; limit: { reason: string; message: string } };
    expect(body.points).toEqual([]);
    expect(body.projectedDays).toBe(0);
    expect(body.limit.reason).toBe('no-component-model');
    expect(body.limit.message).toMatch(/impeller/);
  });

  it('requires a JSON body for the what-if', async () => {
    const r = await raw(server.url, '/api/whatif', { method: 'POST', body: 'assetId=pump-001' });
    expect(r.status).toBe(415);
    const broken = await raw(server.url, '/api/whatif', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{"assetId":',
    });
    expect(broken.status).toBe(400);
    expect(JSON.parse(broken.body).error).toMatch(/not valid JSON/);
  });

  it('streams twin events and heartbeats, and unsubscribes when the client goes away', async () => {
    const url = new URL(server.url);
    const received = await new Promise<string>((resolve, reject) => {
      const req = request({ host: url.hostname, port: url.port, path: '/api/events' }, (res) => {
        expect(res.headers['content-type']).toContain('text/event-stream');
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          text += c;
          if (text.includes('event: twin') && text.includes(': heartbeat')) {
            req.destroy();
            resolve(text);
          }
        });
        setTimeout(() => memory.step(1), 20);
      });
      req.on('error', reject);
      req.end();
    });
    expect(received).toMatch(/event: twin\ndata: \{"type":"twin","assetId":"[a-z]+-\d{3}"\}\n\n/);
    await expect.poll(() => subscribers).toBe(0);
  });

  it('never parses data as HTML in the page script', () => {
    const js = readFileSync(join(import.meta.dirname, '../../../local/dashboard/static/app.js'), 'utf8');
    expect(js).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(/);
  });
});
