import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FallbackEvent, parseValues, SageMakerScorer } from '../../lambdas/adapters/aws/sagemaker.ts';
import { readBundleDir } from '../../lambdas/adapters/model.ts';
import { getAssetModel } from '../../lambdas/core/catalog/index.ts';
import { predict } from '../../lambdas/core/model/predict.ts';
import { createBundleScorer } from '../../lambdas/core/model/scorer.ts';
import { local } from './standins.ts';
import { pumpBatch } from './rows.ts';

// Only the pump's predictors: the shipped bundle is retrained as the project goes, the pump's stay.
const shipped = readBundleDir('layers/model');
const pump = getAssetModel('centrifugal-pump');
const shippedPump = shipped.models.get(pump.id)!;
// The pump's RUL predictor with a hand-made interval (ms), so both scoring paths have one to serve.
const rulWithInterval = {
  ...shippedPump.rul!,
  entry: {
    ...shippedPump.rul!.entry,
    interval: {
      method: 'split-conformal' as const,
      level: 0.9,
      edges: [360_000_000],
      bins: [
        { lower: -36_000_000, upper: 36_000_000, n: 300 },
        { lower: -180_000_000, upper: 180_000_000, n: 300 },
      ],
      calibrationRows: 600,
      calibration: 'test',
    },
  },
};
const pumpEntry = {
  ...shippedPump,
  rul: rulWithInterval,
  predictors: shippedPump.predictors.map((p) => (p === shippedPump.rul ? rulWithInterval : p)),
};
const bundle = { manifest: shipped.manifest, models: new Map([[pump.id, pumpEntry]]) };
const prepared = pumpBatch();
const rows = prepared.rows;
const calls: { endpoint: string; contentType: string | undefined; lines: number }[] = [];
let server: Server;
let port: number;

/**
 * A SageMaker-protocol endpoint serving the bundle's model files with the core's evaluator, reading
 * the CSV as the built-in container does (float32 cells, empty = missing).
 */
beforeAll(async () => {
  server = createServer((req, res) => {
    const endpoint = decodeURIComponent(/^\/endpoints\/([^/]+)\/invocations$/.exec(req.url ?? '')?.[1] ?? '');
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      const lines = body.split('\n');
      calls.push({ endpoint, contentType: req.headers['content-type'], lines: lines.length });
      if (endpoint.startsWith('slow')) return; // never answers: the client must time out
      if (endpoint.startsWith('broken')) {
        res.writeHead(424, { 'content-type': 'application/json', 'x-amzn-errortype': 'ModelError' });
        res.end(JSON.stringify({ message: 'model crashed', OriginalStatusCode: 500 }));
        return;
      }
      const predictor = endpoint.endsWith('rul') ? 'rul' : 'failure';
      const model = bundle.models.get(pump.id)![predictor]!.model;
      const out = lines.map((line) => predict(model, Float32Array.from(line.split(','), (c) => (c === '' ? Number.NaN : Number(c)))));
      res.writeHead(200, { 'content-type': 'text/csv' });
      res.end(out.map(String).join('\n'));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

const scorerFor = (prefix: string, fallbacks: FallbackEvent[], timeoutMs = 2000) =>
  new SageMakerScorer(new SageMakerRuntimeClient(local(port)), bundle, {
    endpoints: { 'centrifugal-pump/failure': `${prefix}-failure`, 'centrifugal-pump/rul': `${prefix}-rul` },
    timeoutMs,
    onFallback: (e) => fallbacks.push(e),
  });

const inProcess = createBundleScorer(bundle, { scoredBy: 'fallback' });

describe('SageMakerScorer', () => {
  it('scores through the endpoints as text/csv and matches the in-process numbers', async () => {
    const fallbacks: FallbackEvent[] = [];
    calls.length = 0;

    const out = await scorerFor('ok', fallbacks).score(pump, prepared.twin, rows);

    expect(fallbacks).toEqual([]);
    expect(calls.map((c) => [c.endpoint, c.contentType, c.lines]).sort()).toEqual([
      ['ok-failure', 'text/csv', rows.length],
      ['ok-rul', 'text/csv', rows.length],
    ]);
    const reference = inProcess(pump, prepared.twin, rows);
    expect(out.every((p) => p?.scoredBy === 'endpoint')).toBe(true);
    expect(out.map((p) => p?.failureProbability)).toEqual(reference.map((p) => p?.failureProbability));
    expect(out.map((p) => p?.rul)).toEqual(reference.map((p) => p?.rul));
    // The interval comes from the manifest on both paths.
    expect(out.map((p) => [p?.rulLower, p?.rulUpper])).toEqual(reference.map((p) => [p?.rulLower, p?.rulUpper]));
    expect(out.every((p) => typeof p?.rulLower === 'number' && p.rulLower <= p.rul! && p.rulLower <= p.rulUpper!)).toBe(true);
  });

  it('gives endpoint predictions the TreeSHAP contributors the in-process scorer computes for the same rows', async () => {
    const explainAll = (prefix: string) =>
      new SageMakerScorer(new SageMakerRuntimeClient(local(port)), bundle, {
        endpoints: { 'centrifugal-pump/failure': `${prefix}-failure`, 'centrifugal-pump/rul': `${prefix}-rul` },
        timeoutMs: 2000,
      });
    const out = await explainAll('ok').score(pump, prepared.twin, rows);
    const reference = inProcess(pump, prepared.twin, rows);

    const contributors = out.map((p) => p?.topContributors);
    expect(contributors.filter((c) => c !== undefined).length).toBeGreaterThan(0);
    expect(contributors).toEqual(reference.map((p) => p?.topContributors));
  });

  it('scores several assets with one call per predictor, in chunks that never split an asset, each asset as if alone', async () => {
    const fallbacks: FallbackEvent[] = [];
    // Three "assets": the batch's rows cut in three uneven parts.
    const a = rows.slice(0, 5), b = rows.slice(5, 12), c = rows.slice(12);
    const items = [a, b, c].map((r) => ({ twin: prepared.twin, rows: r }));
    const scorer = new SageMakerScorer(new SageMakerRuntimeClient(local(port)), bundle, {
      endpoints: { 'centrifugal-pump/failure': 'ok-failure', 'centrifugal-pump/rul': 'ok-rul' },
      timeoutMs: 2000,
      maxRowsPerCall: 12,
      onFallback: (e) => fallbacks.push(e),
    });
    calls.length = 0;

    const out = await scorer.scoreMany(pump, items);

    expect(fallbacks).toEqual([]);
    // a + b fill the first chunk (12 rows); c alone is the second, even if longer than 12.
    expect(calls.map((x) => [x.endpoint, x.lines]).sort()).toEqual([
      ['ok-failure', 12],
      ['ok-failure', c.length],
      ['ok-rul', 12],
      ['ok-rul', c.length],
    ].sort());
    expect(out.map((o) => o.length)).toEqual([a.length, b.length, c.length]);
    const alone = await Promise.all(items.map((it) => scorerFor('ok', []).score(pump, it.twin, it.rows)));
    expect(out).toEqual(alone);
  });

  it('falls back for every asset of a chunk whose call fails, and only for that chunk', async () => {
    const fallbacks: FallbackEvent[] = [];
    let n = 0;
    const flaky = new SageMakerRuntimeClient(local(port));
    const send = flaky.send.bind(flaky);
    // The first chunk's failure call is answered by a broken endpoint.
    flaky.send = ((cmd: { input: { EndpointName?: string } }, opts: unknown) => {
      if (cmd.input.EndpointName === 'ok-failure' && n++ === 0) cmd.input.EndpointName = 'broken-failure';
      return send(cmd as never, opts as never);
    }) as typeof flaky.send;
    const scorer = new SageMakerScorer(flaky, bundle, {
      endpoints: { 'centrifugal-pump/failure': 'ok-failure', 'centrifugal-pump/rul': 'ok-rul' },
      timeoutMs: 2000,
      maxRowsPerCall: 10,
      onFallback: (e) => fallbacks.push(e),
    });
    const items = [rows.slice(0, 4), rows.slice(4, 10), rows.slice(10)].map((r) => ({ twin: prepared.twin, rows: r }));

    const out = await scorer.scoreMany(pump, items);

    expect(fallbacks).toHaveLength(1);
    expect(fallbacks[0]!.rows).toBe(10);
    expect(out.map((o) => new Set(o.map((p) => p?.scoredBy)))).toEqual([new Set(['fallback']), new Set(['fallback']), new Set(['endpoint'])]);
  });

  it('falls back to the in-process scorer on a ModelError, with identical numbers', async () => {
    const fallbacks: FallbackEvent[] = [];

    const out = await scorerFor('broken', fallbacks).score(pump, prepared.twin, rows);

    expect(out).toEqual(inProcess(pump, prepared.twin, rows));
    expect(out.every((p) => p?.scoredBy === 'fallback')).toBe(true);
    expect(fallbacks).toHaveLength(1);
    expect(fallbacks[0]).toMatchObject({ modelId: 'centrifugal-pump', errorName: 'ModelError', rows: rows.length });
  });

  it('falls back when the endpoint does not answer within the timeout', async () => {
    const fallbacks: FallbackEvent[] = [];
    const started = performance.now();

    const out = await scorerFor('slow', fallbacks, 150).score(pump, prepared.twin, rows);

    expect(performance.now() - started).toBeLessThan(1500);
    expect(out).toEqual(inProcess(pump, prepared.twin, rows));
    expect(fallbacks[0]?.errorName).toBe('EndpointTimeoutError');
  });

  it('scores null for an asset model the bundle has no predictors for', async () => {
    const out = await scorerFor('ok', []).score(getAssetModel('turbofan'), prepared.twin, rows.slice(0, 3));
    expect(out).toEqual([null, null, null]);
  });

  it('scores in process, marked so, when no predictor of the asset model has an endpoint', async () => {
    const scorer = new SageMakerScorer(new SageMakerRuntimeClient(local(port)), bundle, { endpoints: {}, timeoutMs: 100 });
    const out = await scorer.score(pump, prepared.twin, rows);
    expect(out).toEqual(createBundleScorer(bundle)(pump, prepared.twin, rows));
    expect(out[0]?.scoredBy).toBe('in-process');
  });
});

describe('parseValues', () => {
  it('reads one float per line and rejects a wrong count or a non-number', () => {
    expect(Array.from(parseValues('0.5\n1e-3\n', 2))).toEqual([0.5, 0.001]);
    expect(() => parseValues('0.5', 2)).toThrow('expected 2 values');
    expect(() => parseValues('0.5\nnope', 2)).toThrow('not a number');
  });
});
