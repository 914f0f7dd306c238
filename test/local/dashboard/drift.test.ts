import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFleet } from '../../../devices/fleet.ts';
import { readBundleDir } from '../../../lambdas/adapters/model.ts';
import type { DriftWindowReport } from '../../../lambdas/adapters/drift.ts';
import type { ModelDriftDetectedDetail } from '../../../lambdas/core/drift/index.ts';
import { driftAlarmName } from '../../../lib/drift.ts';
import { readAliases } from '../../../ml/registry/store.ts';
import {
  championsOf,
  cloudWatchAlarms,
  cloudWatchDriftAlarm,
  DriftPanelCache,
  readDriftAlarms,
  reasonOf,
  windowPanel,
} from '../../../local/dashboard/drift.ts';
import { MemoryDashboardSource } from '../../../local/dashboard/memory-source.ts';
import { type DashboardHandle, startDashboard } from '../../../local/dashboard/server.ts';
import type { DashboardSource, DriftPanel, DriftPanelData } from '../../../local/dashboard/source.ts';

const bundle = readBundleDir('layers/model');

const detail = (assetModel: string, psi: number, toHour: number): ModelDriftDetectedDetail => ({
  assetModel,
  psi,
  feature: 'vibration_last',
  threshold: 0.2,
  rows: 900,
  window: { hours: 24, fromHour: toHour - 23, toHour },
  features: [{ feature: 'vibration_last', psi }],
});

describe('DriftPanelCache', () => {
  const data: DriftPanelData = { threshold: 0.2, basis: 'history', models: [], alarms: { kind: 'events', items: [] } };

  it('computes once per time to live and again after it', async () => {
    let clock = 1_000_000;
    let calls = 0;
    const cache = new DriftPanelCache(async () => ({ ...data, threshold: ++calls }), 60_000, () => clock);
    const a = await cache.get();
    clock += 59_999;
    const b = await cache.get();
    clock += 1;
    const c = await cache.get();
    expect([a.threshold, b.threshold, c.threshold]).toEqual([1, 1, 2]);
    expect(a.computedAt).toBe(new Date(1_000_000).toISOString());
    expect(c.computedAt).toBe(new Date(1_060_000).toISOString());
  });

  it('shares one running computation between requests', async () => {
    let release!: () => void;
    let calls = 0;
    const cache = new DriftPanelCache(
      () => new Promise<DriftPanelData>((resolve) => (release = () => resolve({ ...data, threshold: ++calls }))),
      60_000,
      () => 0,
    );
    const both = Promise.all([cache.get(), cache.get()]);
    release();
    const [a, b] = await both;
    expect(a).toBe(b);
    expect(cache.computations).toBe(1);
  });

  it('does not keep a failure: the next request computes again', async () => {
    let fail = true;
    const cache = new DriftPanelCache(
      async () => {
        if (fail) throw new Error('Athena is down');
        return data;
      },
      60_000,
      () => 0,
    );
    await expect(cache.get()).rejects.toThrow('Athena is down');
    fail = false;
    await expect(cache.get()).resolves.toMatchObject({ threshold: 0.2 });
    expect(cache.computations).toBe(2);
  });
});

describe('drift panel helpers', () => {
  it('names the CloudWatch alarm as the CDK stack does', () => {
    for (const m of ['centrifugal-pump', 'turbofan']) expect(cloudWatchDriftAlarm('dev', m)).toBe(driftAlarmName('dev', m));
    const alarms = cloudWatchAlarms('prod', ['turbofan']);
    expect(alarms).toEqual({ kind: 'cloudwatch', names: { turbofan: 'pdm-prod-drift-turbofan' }, message: 'alarms: see CloudWatch alarm pdm-prod-drift-<model>' });
  });

  it('gives the core’s reason for a null PSI when it has one, else the count rule', () => {
    expect(reasonOf({ psi: null, rows: 40, reason: 'window holds one asset' }, 500)).toBe('window holds one asset');
    expect(reasonOf({ psi: null, rows: 40 }, 500)).toBe('not enough data: 40 rows, the minimum is 500');
    expect(reasonOf({ psi: null, rows: 0 }, 500)).toBe('not enough data: no rows in the window');
    expect(reasonOf({ psi: 0.1, rows: 900 }, 500)).toBeNull();
  });

  it('matches the bundle to the registry’s champion by its predictor files', () => {
    const champions = championsOf(bundle);
    const aliases = readAliases('models');
    for (const id of bundle.models.keys()) {
      const c = champions.get(id)!;
      expect(c.bundleCreatedAt).toBe(bundle.manifest.createdAt);
      expect(c.modelHash).toMatch(/^[0-9a-f]{12}$/);
      expect(c.registryChampion).toBe(aliases.champions[id] ?? null);
      // The shipped bundle is materialised from the champions: each asset model is its champion.
      expect(c).toMatchObject({ version: aliases.champions[id], champion: true });
    }
    expect(championsOf(bundle, null).get('turbofan')).toMatchObject({ version: null, champion: null, registryChampion: null });
  });

  it('reads the alarm log, skipping a torn line, and lists alarms newest first', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pdm-drift-alarms-'));
    try {
      const file = join(dir, 'drift-alarms.jsonl');
      const line = (d: ModelDriftDetectedDetail) => JSON.stringify({ source: 'pdm.ops', 'detail-type': 'ModelDriftDetected', detail: d });
      writeFileSync(file, `${line(detail('centrifugal-pump', 0.31, 493_024))}\n${line(detail('turbofan', 0.5, 493_030))}\n{"detail":{"assetMo`);
      const alarms = readDriftAlarms(file);
      expect(alarms.map((a) => a.assetModel)).toEqual(['centrifugal-pump', 'turbofan']);
      expect(readDriftAlarms(join(dir, 'none.jsonl'))).toEqual([]);

      const report: DriftWindowReport = {
        assetModel: 'turbofan',
        rows: 40,
        psi: null,
        feature: null,
        features: [{ feature: 'T30_mean_30c', psi: null }],
        reason: 'not enough data: 40 rows, the minimum is 500',
        window: { hours: 24, fromHour: 493_007, toHour: 493_030 },
        referenceId: 'x',
      };
      const panel = windowPanel({ bundle, champions: championsOf(bundle, null), latest: new Map([['turbofan', report]]), windowHours: 24, minCount: 500, threshold: 0.2, alarms });
      expect(panel.models.map((m) => m.assetModel)).toEqual(['centrifugal-pump', 'industrial-machine', 'turbofan']);
      const turbofan = panel.models.find((m) => m.assetModel === 'turbofan')!;
      expect(turbofan).toMatchObject({ psi: null, rows: 40, reason: 'not enough data: 40 rows, the minimum is 500', features: [{ feature: 'T30_mean_30c', psi: null }] });
      expect(turbofan.window).toEqual({ hours: 24, from: new Date(493_007 * 3_600_000).toISOString(), to: new Date(493_031 * 3_600_000).toISOString() });
      expect(panel.models.find((m) => m.assetModel === 'centrifugal-pump')).toMatchObject({ psi: null, reason: 'no drift window read yet', window: { from: null } });
      expect(panel.alarms).toEqual({
        kind: 'events',
        items: [
          { at: new Date(493_030 * 3_600_000).toISOString(), assetModel: 'turbofan', psi: 0.5, feature: 'vibration_last', rows: 900, threshold: 0.2 },
          { at: new Date(493_024 * 3_600_000).toISOString(), assetModel: 'centrifugal-pump', psi: 0.31, feature: 'vibration_last', rows: 900, threshold: 0.2 },
        ],
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('GET /api/drift over the in-process source', () => {
  let memory: MemoryDashboardSource;
  let server: DashboardHandle;
  let computed = 0;
  let clock = Date.UTC(2026, 0, 1);

  beforeAll(async () => {
    // Two simulated days of three pumps: 864 rows in the pumps' last 24 h window, a PSI at a 100-row minimum.
    memory = new MemoryDashboardSource({ fleet: createFleet({ assets: 3, seed: 3, models: ['centrifugal-pump'] }), drift: { minCount: 100 } });
    memory.step(288);
    const source: DashboardSource = {
      ...Object.fromEntries((['models', 'fleet', 'twin', 'history', 'alerts', 'whatIf', 'subscribe'] as const).map((k) => [k, memory[k].bind(memory)])),
      drift: () => {
        computed += 1;
        return memory.drift();
      },
    } as DashboardSource;
    server = await startDashboard({ source, now: () => clock });
  });

  afterAll(async () => {
    await server.stop();
  });

  const get = async () => (await (await fetch(new URL('/api/drift', server.url))).json()) as DriftPanel;

  it('answers each asset model with its version, PSI, window and top features', async () => {
    const panel = await get();
    expect(panel.threshold).toBe(0.2);
    expect(panel.basis).toBe('drift-window');
    const pump = panel.models.find((m) => m.assetModel === 'centrifugal-pump')!;
    expect(pump.rows).toBe(3 * 144);
    expect(pump.psi).not.toBeNull();
    expect(pump.reason).toBeNull();
    expect(pump.features).toHaveLength(bundle.models.get('centrifugal-pump')!.reference!.topFeatures.length);
    // The headline is the largest feature PSI, and the rows come most drifted first.
    expect(pump.psi).toBe(Math.max(...pump.features.map((f) => f.psi!)));
    expect(pump.feature).toBe(pump.features[0]!.feature);
    expect(pump.champion).toMatchObject({ version: readAliases('models').champions['centrifugal-pump'], champion: true });
    // No turbofan in this fleet: no window, and a sentence instead of a number.
    expect(panel.models.find((m) => m.assetModel === 'turbofan')).toMatchObject({ psi: null, rows: 0, reason: 'no drift window read yet' });
    // A healthy fleet that did not drift stays under the threshold on the watched features (docs/drift.md):
    // no alarm on the panel.
    expect(pump.psi!).toBeLessThan(0.2);
    expect(panel.alarms).toMatchObject({ kind: 'events', items: [] });
  });

  it('computes at most once a minute however often the page asks', async () => {
    const before = computed;
    const first = await get();
    memory.step(6);
    const again = await get();
    expect(again.computedAt).toBe(first.computedAt);
    expect(computed - before).toBeLessThanOrEqual(1);
    clock += 60_000;
    const later = await get();
    expect(later.computedAt).not.toBe(first.computedAt);
    expect(later.models.find((m) => m.assetModel === 'centrifugal-pump')!.window.to! >= first.models.find((m) => m.assetModel === 'centrifugal-pump')!.window.to!).toBe(true);
  });
});
