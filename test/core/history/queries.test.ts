import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ParquetHistoryStore } from '../../../lambdas/adapters/local/history-parquet.ts';
import {
  alertsPerDay,
  assetHistory,
  assetTableCounts,
  dailyRisk,
  failureEvents,
  HistoryQueryInputError,
  hourlySensor,
  lastSampleTimes,
  quarantineByReason,
  recentAlerts,
  tableCounts,
  timestampText,
  trainingFeatures,
} from '../../../lambdas/core/history/queries.ts';
import {
  alertRow,
  featureRow,
  maintenanceRow,
  predictionRow,
  quarantineRow,
  telemetryRow,
} from '../../../lambdas/core/history/tables.ts';

const T0 = Date.UTC(2026, 0, 1);
const HOUR = 3_600_000;
const pump = { assetId: 'pump-1', siteId: 'site-a', modelId: 'centrifugal-pump' };
const other = { assetId: 'pump-2', siteId: 'site-a', modelId: 'centrifugal-pump' };
let dir: string;
let store: ParquetHistoryStore;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pdm-history-q-'));
  store = await ParquetHistoryStore.open({ dir, flushMs: 0 });
  const tel = [];
  const feats = [];
  const preds = [];
  for (let i = 0; i < 48; i++) {
    for (const a of [pump, other]) {
      const ts = T0 + i * HOUR;
      tel.push(telemetryRow({ ...a, ts, seq: i, readings: { flow: i, Vibration: 2 * i }, receivedAt: ts + 1000 }));
      feats.push(featureRow(a, { seq: i, ts, t: ts, vector: new Float64Array([i, i + 0.5]), anomaly: { score: 0.1 } as never }, 'features-1', ['x', 'y']));
      preds.push(predictionRow(a, { ts, seq: i, anomaly: 0.1, prediction: { failureProbability: i / 48, rul: null, scoredBy: 'in-process' } }, 'v1'));
    }
  }
  // A retried batch delivers its rows again: the queries must count each sample once.
  await store.put('telemetry', [...tel, ...tel.slice(0, 10)]);
  await store.put('features', feats);
  await store.flush();
  await store.put('predictions', [...preds, ...preds.slice(0, 4)]);
  const alert = { version: 1, alertId: 'al-1', assetId: 'pump-1', siteId: 'site-a', assetModel: 'centrifugal-pump', scope: 'asset', from: 'NORMAL', to: 'WARNING', severity: 'warning', at: new Date(T0 + 30 * HOUR).toISOString(), seq: 30, scores: { risk: 0.6, anomaly: 0.2, failureProbability: 0.6, rul: null, rulUnit: 'hours' }, topContributors: [], estimatedCostAvoidedUsd: 100 } as never;
  await store.put('alerts', [alertRow(alert), alertRow(alert)]);
  await store.put('maintenance', [maintenanceRow({ ...pump, ts: T0 + 40 * HOUR, kind: 'replacement', receivedAt: T0 + 40 * HOUR }), maintenanceRow({ ...pump, ts: T0 + 41 * HOUR, kind: 'inspection', receivedAt: T0 })]);
  await store.put('quarantine', [quarantineRow({ reason: 'invalid_json', level: 'message', detail: 'd', messageId: 'm', topic: 't', receivedAt: T0, payload: '' }, '/q/invalid_json.jsonl')]);
  await store.flush();
});

afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('history queries on DuckDB', () => {
  it('counts every table, including the ones never written', async () => {
    const rows = await store.query(tableCounts().sql);
    const n = Object.fromEntries(rows.map((r) => [r.table_name, r.n]));
    expect(n).toMatchObject({ telemetry: 106, features: 96, predictions: 100, alerts: 2, maintenance: 2, events: 0, transitions: 0, quarantine: 1 });
  });

  it('counts one asset’s rows per table since a time', async () => {
    const q = assetTableCounts('pump-1', T0 + 40 * HOUR);
    const rows = await store.query(q.sql, q.params);
    const n = Object.fromEntries(rows.map((r) => [r.table_name, Number(r.n)]));
    // Hours 40–47 of pump-1 (the re-delivered rows are hours 0–4), its maintenance at 40 and 41, no other asset.
    expect(n).toMatchObject({ telemetry: 8, features: 8, predictions: 8, maintenance: 2, alerts: 0, events: 0 });
  });

  it('returns one asset history oldest first, each sample once, with readings as JSON and its prediction', async () => {
    const q = assetHistory('duckdb', 'pump-1', T0 + 40 * HOUR, 5);
    const rows = await store.query(q.sql, q.params);
    expect(rows.map((r) => r.seq)).toEqual([43, 44, 45, 46, 47]);
    expect(JSON.parse(String(rows[0]!.readings))).toEqual({ flow: 43, vibration: 86 });
    expect(rows[0]!.failure_probability).toBeCloseTo(43 / 48);
    expect(rows[0]!.ts).toBe(new Date(T0 + 43 * HOUR).toISOString());
  });

  it('returns alerts once per alert id, newest first', async () => {
    const q = recentAlerts(T0, 10);
    const rows = await store.query(q.sql, q.params);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ alert_id: 'al-1', severity: 'warning', to_state: 'WARNING' });
  });

  it('returns training features with the vector as JSON text, and the failure evidence', async () => {
    const f = trainingFeatures('duckdb', 'centrifugal-pump', T0, T0 + 2 * HOUR);
    const rows = await store.query(f.sql, f.params);
    expect(rows.map((r) => [r.asset_id, r.seq, JSON.parse(String(r.vector))])).toEqual([
      ['pump-1', 0, [0, 0.5]], ['pump-1', 1, [1, 1.5]], ['pump-2', 0, [0, 0.5]], ['pump-2', 1, [1, 1.5]],
    ]);
    const e = failureEvents('centrifugal-pump', T0);
    expect(await store.query(e.sql, e.params)).toEqual([{ asset_id: 'pump-1', ts: new Date(T0 + 40 * HOUR).toISOString(), component: null }]);
    const l = lastSampleTimes('centrifugal-pump');
    expect((await store.query(l.sql, l.params)).map((r) => r.last_ts)).toEqual([new Date(T0 + 47 * HOUR).toISOString(), new Date(T0 + 47 * HOUR).toISOString()]);
  });

  it('aggregates alerts per day, quarantine per reason, daily risk and an hourly sensor', async () => {
    const a = alertsPerDay(T0);
    expect(await store.query(a.sql, a.params)).toEqual([{ day: new Date(T0 + 24 * HOUR).toISOString(), severity: 'warning', alerts: 1 }]);
    const q = quarantineByReason(T0);
    expect(await store.query(q.sql, q.params)).toEqual([{ reason: 'invalid_json', records: 1, example_object: '/q/invalid_json.jsonl' }]);
    const r = dailyRisk('centrifugal-pump', T0);
    const risk = await store.query(r.sql, r.params);
    expect(risk).toHaveLength(4);
    expect(risk[0]).toMatchObject({ asset_id: 'pump-1', rows_over_half: 0 });
    const h = hourlySensor('duckdb', 'pump-2', 'vibration', T0 + 46 * HOUR);
    expect(await store.query(h.sql, h.params)).toEqual([
      { hour: new Date(T0 + 46 * HOUR).toISOString(), mean: 92, n: 1 },
      { hour: new Date(T0 + 47 * HOUR).toISOString(), mean: 94, n: 1 },
    ]);
  });

  it('refuses bad arguments with a named error', () => {
    expect(() => assetHistory('duckdb', 'a', Number.NaN, 5)).toThrow(HistoryQueryInputError);
    expect(() => recentAlerts(T0, 0)).toThrow(/limit/);
    expect(() => hourlySensor('athena', 'a', "x'; drop", T0)).toThrow(HistoryQueryInputError);
  });

  it('writes Parquet files per table and formats timestamps for both engines', () => {
    expect(readdirSync(join(dir, 'telemetry')).filter((f) => f.endsWith('.parquet'))).toHaveLength(1);
    expect(readdirSync(join(dir, 'predictions')).filter((f) => f.endsWith('.parquet'))).toHaveLength(1);
    expect(timestampText(T0 + 1)).toBe('2026-01-01 00:00:00.001');
  });
});
