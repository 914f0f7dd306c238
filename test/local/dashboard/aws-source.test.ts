import { AthenaClient, GetQueryExecutionCommand, GetQueryResultsCommand, StartQueryExecutionCommand } from '@aws-sdk/client-athena';
import { mockClient } from 'aws-sdk-client-mock';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { findChromium } from '../../support/chromium.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fleetLookup } from '../../../devices/fleet.ts';
import { DynamoTwinStore } from '../../../lambdas/adapters/aws/dynamodb.ts';
import { AthenaHistoryQuery } from '../../../lambdas/adapters/aws/history-athena.ts';
import { readBundleDir } from '../../../lambdas/adapters/model.ts';
import { DEFAULT_BASELINES } from '../../../lambdas/core/anomaly/index.ts';
import { createBundleScorer } from '../../../lambdas/core/model/scorer.ts';
import { findAssetModel } from '../../../lambdas/core/catalog/index.ts';
import { assetModelDrift, compileReference, countVectors, emptyCounts } from '../../../lambdas/core/drift/index.ts';
import { featureNames } from '../../../lambdas/core/features/index.ts';
import type { DriftPanel } from '../../../local/dashboard/source.ts';
import { processMessages } from '../../../lambdas/core/pipeline.ts';
import type { Twin } from '../../../lambdas/core/twin/twin.ts';
import { AwsDashboardSource } from '../../../local/dashboard/aws-source.ts';
import { type DashboardHandle, startDashboard } from '../../../local/dashboard/server.ts';
import { type Dynamo, startDynalite } from '../../adapters/standins.ts';
import { simulate } from '../../lambdas/fixtures.ts';

const bundle = readBundleDir('layers/model');
const PUMP = findAssetModel('centrifugal-pump')!;
/** 30 feature vectors of a pump, all features at one value: far from the training bins. */
/** The drift rows spread over the 24 h window's hours (a window needs rows in 90 % of them: docs/drift.md). */
const driftTs = (i: number) => new Date(Date.UTC(2026, 0, 1, 11) - (i % 24) * 3_600_000).toISOString().replace('T', ' ').replace('Z', '');
const DRIFT_VECTORS = Array.from({ length: 30 }, (_, i) => featureNames(PUMP).map(() => i % 2));
const athena = mockClient(AthenaClient);
let db: Dynamo;
let server: DashboardHandle;
let source: AwsDashboardSource;
let twins: Map<string, Twin>;

const col = (Name: string, Type: string) => ({ Name, Type });
const cells = (...v: (string | null)[]) => ({ Data: v.map((x) => (x === null ? {} : { VarCharValue: x })) });

beforeAll(async () => {
  // Arrange: real twins from the core pipeline, stored as the features function stores them.
  const { fleet, ticks } = simulate({ assets: 3, seed: 4, ticks: 40, models: ['centrifugal-pump'] });
  const messages = ticks.flatMap((tick, t) => tick.map((r, i) => ({ topic: r.topic, payload: r.payload, receivedAt: r.receivedAt, messageId: `${t}-${i}` })));
  twins = new Map(processMessages(messages, new Map(), { lookupAsset: fleetLookup(fleet), baselineFor: (m) => DEFAULT_BASELINES[m.id]!, scorer: createBundleScorer(bundle) }).twins);
  db = await startDynalite();
  await db.createTable('pdm-dev-twins');
  const store = new DynamoTwinStore(db.doc, 'pdm-dev-twins');
  for (const t of twins.values()) await store.put(t, null);

  // Athena: the history query answers two samples, the alerts query one alert.
  athena.on(StartQueryExecutionCommand).callsFake((input: { QueryString: string; ExecutionParameters?: string[] }) => {
    const model = input.ExecutionParameters?.[0]?.replace(/'/g, '');
    if (input.QueryString.includes('max(ts) AS t FROM features')) return { QueryExecutionId: `drift-max-${model}` };
    if (input.QueryString.includes('FROM features')) return { QueryExecutionId: `drift-rows-${model}` };
    return { QueryExecutionId: input.QueryString.includes('FROM alerts') ? 'alerts' : 'history' };
  });
  // Drift (the pdm drift --stage queries): pumps have a window of 30 feature rows, the other models none.
  for (const m of ['industrial-machine', 'turbofan']) {
    athena.on(GetQueryResultsCommand, { QueryExecutionId: `drift-max-${m}` }).resolves({
      ResultSet: { ResultSetMetadata: { ColumnInfo: [col('t', 'timestamp')] }, Rows: [cells('t'), cells(null)] },
    });
  }
  athena.on(GetQueryResultsCommand, { QueryExecutionId: 'drift-max-centrifugal-pump' }).resolves({
    ResultSet: { ResultSetMetadata: { ColumnInfo: [col('t', 'timestamp')] }, Rows: [cells('t'), cells('2026-01-01 12:00:00.000')] },
  });
  athena.on(GetQueryResultsCommand, { QueryExecutionId: 'drift-rows-centrifugal-pump' }).resolves({
    ResultSet: {
      ResultSetMetadata: { ColumnInfo: [col('asset_id', 'varchar'), col('seq', 'bigint'), col('ts', 'timestamp'), col('vector', 'varchar')] },
      Rows: [cells('asset_id', 'seq', 'ts', 'vector'), ...DRIFT_VECTORS.map((v, i) => cells('pump-001', String(i), driftTs(i), JSON.stringify(v)))],
    },
  });
  athena.on(GetQueryExecutionCommand).resolves({ QueryExecution: { Status: { State: 'SUCCEEDED' } } });
  athena.on(GetQueryResultsCommand, { QueryExecutionId: 'history' }).resolves({
    ResultSet: {
      ResultSetMetadata: { ColumnInfo: [col('ts', 'timestamp'), col('seq', 'bigint'), col('readings', 'varchar'), col('anomaly', 'double'), col('failure_probability', 'double'), col('rul', 'double')] },
      Rows: [cells('ts', 'seq', 'readings', 'anomaly', 'failure_probability', 'rul'), cells('2026-01-01 00:00:00.000', '1', '{"flow":12.5}', '0.1', '0.02', null), cells('2026-01-01 00:10:00.000', '2', '{"flow":12.7}', '0.2', null, null)],
    },
  });
  athena.on(GetQueryResultsCommand, { QueryExecutionId: 'alerts' }).resolves({
    ResultSet: {
      ResultSetMetadata: { ColumnInfo: ['alert_id', 'asset_id', 'site_id', 'model_id', 'ts', 'seq', 'scope', 'component', 'from_state', 'to_state', 'severity', 'risk', 'anomaly', 'failure_probability', 'rul', 'rul_unit', 'top_contributors', 'estimated_cost_avoided_usd'].map((n) => col(n, ['seq'].includes(n) ? 'bigint' : ['risk', 'anomaly', 'failure_probability', 'rul', 'estimated_cost_avoided_usd'].includes(n) ? 'double' : n === 'ts' ? 'timestamp' : 'varchar')) },
      Rows: [cells('h'), cells('al-9', 'pump-001', 'site-1', 'centrifugal-pump', '2026-01-01 05:00:00.000', '30', 'asset', null, 'NORMAL', 'WARNING', 'warning', '0.7', '0.4', '0.6', null, 'hours', '[{"sensor":"vibration","share":0.8}]', '1500')],
    },
  });
  source = new AwsDashboardSource({
    stage: 'dev',
    doc: db.doc,
    twinTable: 'pdm-dev-twins',
    history: new AthenaHistoryQuery(new AthenaClient({ region: 'eu-west-1' }), { workgroup: 'pdm-dev-history', database: 'pdm_dev_history', sleep: async () => {} }),
    bundle,
    pollMs: 0,
    now: () => Date.UTC(2026, 0, 2),
    driftMinCount: 20,
  });
  server = await startDashboard({ source, port: 0 });
});

afterAll(async () => {
  await server.stop();
  source.close();
  await db.close();
  athena.restore();
});

const get = async (path: string) => {
  const res = await fetch(new URL(path, server.url));
  return { status: res.status, body: (await res.json()) as unknown };
};

describe('AwsDashboardSource behind the dashboard server', () => {
  it('lists the fleet from the twin items’ summary attributes, with states and scores', async () => {
    const { status, body } = await get('/api/fleet');
    expect(status).toBe(200);
    const rows = body as { assetId: string; state: string; components: Record<string, string>; scores: { risk: number }; samples: number; lastSeq: number }[];
    expect(rows.map((r) => r.assetId)).toEqual([...twins.keys()].sort());
    for (const r of rows) {
      const t = twins.get(r.assetId)!;
      expect(r).toMatchObject({ state: t.health.state, samples: t.samples, lastSeq: t.lastSeq });
      expect(r.scores.risk).toBeCloseTo(t.scores!.risk);
      expect(Object.keys(r.components).sort()).toEqual(Object.keys(t.components).sort());
    }
  });

  it('shows one asset from its inflated twin', async () => {
    const id = [...twins.keys()][0]!;
    const { status, body } = await get(`/api/assets/${id}`);
    expect(status).toBe(200);
    expect(body).toMatchObject({ assetId: id, twin: { lastSeq: twins.get(id)!.lastSeq, samples: twins.get(id)!.samples } });
  });

  it('reads an asset’s history from Athena in the stage workgroup, bounded by the twin’s newest sample', async () => {
    athena.resetHistory();
    const id = [...twins.keys()][1]!;
    const { body } = await get(`/api/assets/${id}/history?limit=50`);
    expect(body).toEqual([
      { ts: Date.UTC(2026, 0, 1), seq: 1, readings: { flow: 12.5 }, anomaly: 0.1, risk: null, failureProbability: 0.02, rul: null },
      { ts: Date.UTC(2026, 0, 1, 0, 10), seq: 2, readings: { flow: 12.7 }, anomaly: 0.2, risk: null, failureProbability: null, rul: null },
    ]);
    const start = athena.commandCalls(StartQueryExecutionCommand)[0]!.args[0].input;
    expect(start.WorkGroup).toBe('pdm-dev-history');
    expect(start.ExecutionParameters?.[0]).toBe(`'${id}'`);
    const since = new Date(twins.get(id)!.latest!.ts - 7 * 86_400_000).toISOString().replace('T', ' ').replace('Z', '');
    expect(start.ExecutionParameters?.[1]).toBe(`'${since}'`);
  });

  it('reads recent alerts from the alerts table as alert events', async () => {
    const { body } = await get('/api/alerts?limit=5');
    expect(body).toEqual([
      expect.objectContaining({ alertId: 'al-9', assetId: 'pump-001', severity: 'warning', from: 'NORMAL', to: 'WARNING', at: '2026-01-01T05:00:00.000Z', topContributors: [{ sensor: 'vibration', share: 0.8 }], scores: expect.objectContaining({ risk: 0.7, rulUnit: 'hours' }) }),
    ]);
  });

  it('computes the drift panel from the history in Athena and names the CloudWatch alarms', async () => {
    const { status, body } = await get('/api/drift');
    expect(status).toBe(200);
    const panel = body as DriftPanel;
    expect(panel.basis).toBe('history');
    const ref = bundle.models.get('centrifugal-pump')!.reference!;
    const expected = assetModelDrift('centrifugal-pump', ref, countVectors(compileReference(ref, featureNames(PUMP)), DRIFT_VECTORS, emptyCounts(ref)), { minCount: 20 });
    const pump = panel.models.find((m) => m.assetModel === 'centrifugal-pump')!;
    expect(pump).toMatchObject({ psi: expected.psi, feature: expected.feature, rows: 30, minCount: 20, reason: null, features: expected.features });
    expect(pump.window).toEqual({ hours: 24, from: '2025-12-31T12:00:00.000Z', to: '2026-01-01T12:00:00.000Z' });
    expect(panel.models.find((m) => m.assetModel === 'turbofan')).toMatchObject({ psi: null, rows: 0, reason: expect.stringMatching(/^no watched feature/) });
    expect(panel.alarms).toEqual({
      kind: 'cloudwatch',
      names: { 'centrifugal-pump': 'pdm-dev-drift-centrifugal-pump', 'industrial-machine': 'pdm-dev-drift-industrial-machine', turbofan: 'pdm-dev-drift-turbofan' },
      message: 'alarms: see CloudWatch alarm pdm-dev-drift-<model>',
    });
  });

  it('answers 404 for an asset the table does not hold', async () => {
    expect((await get('/api/assets/nope')).status).toBe(404);
  });

  it('emits a twin event when a polled summary changes', async () => {
    const seen: string[] = [];
    const unsubscribe = source.subscribe((e) => e.type === 'twin' && seen.push(e.assetId));
    await source.poll();
    const id = [...twins.keys()][2]!;
    const t = twins.get(id)!;
    const next: Twin = { ...t, version: t.version, samples: t.samples + 1, latest: { ...t.latest!, ts: t.latest!.ts + 600_000 } };
    await new DynamoTwinStore(db.doc, 'pdm-dev-twins').put(next, t.version);
    await source.poll();
    unsubscribe();
    expect(seen).toEqual([id]);
  });
});

describe('dashboard page over a deployed stage (headless Chromium)', () => {
  it('shows the fleet from the summaries, opens an asset with its Athena history, and logs no error', async () => {
    // Debian's chromium (or PDM_CHROMIUM) when installed, else the build npm installed: never skipped.
    const browserBinary = await findChromium();
    const userDir = mkdtempSync(join(tmpdir(), 'pdm-chromium-aws-'));
    const browser = await chromium.launchPersistentContext(userDir, {
      executablePath: browserBinary.executablePath,
      env: { ...process.env, ...browserBinary.env },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1280, height: 800 },
    });
    try {
      const page = browser.pages()[0] ?? (await browser.newPage());
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      await page.goto(server.url);
      await page.waitForSelector('body[data-ready="true"]', { timeout: 10_000 });
      const rows = page.locator('#fleet-table tbody tr');
      await expect.poll(() => rows.count()).toBe(twins.size);
      for (const [id, t] of twins) {
        expect(await page.locator(`#fleet-table tbody tr[data-asset-id="${id}"]`).getAttribute('data-state')).toBe(t.health.state);
      }
      // The drift panel over a stage points at the CloudWatch alarms.
      await expect.poll(() => page.locator('#drift-alarm').textContent()).toBe('alarms: see CloudWatch alarm pdm-dev-drift-<model>');
      expect(await page.locator('#drift .drift-model[data-model="centrifugal-pump"] tr.drift-feature').count()).toBe(5);
      const id = [...twins.keys()][0]!;
      athena.resetHistory();
      await page.locator(`#fleet-table tbody tr[data-asset-id="${id}"]`).click();
      await expect.poll(() => athena.commandCalls(StartQueryExecutionCommand).some((c) => c.args[0].input.ExecutionParameters?.[0] === `'${id}'`)).toBe(true);
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
      rmSync(userDir, { recursive: true, force: true });
    }
  }, 60_000);
});
