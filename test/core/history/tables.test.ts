import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  alertRow,
  checkRow,
  eventRow,
  featureRow,
  HISTORY_TABLES,
  HistoryRowError,
  maintenanceRow,
  micros,
  predictionRow,
  quarantineRow,
  TABLE_DEFS,
  telemetryRow,
  transitionRow,
} from '../../../lambdas/core/history/tables.ts';
import { trainingMatrix, TrainingFeatureError, parseVectorText } from '../../../lambdas/core/history/training.ts';

const asset = { assetId: 'pump-1', siteId: 'site-a', modelId: 'centrifugal-pump' };
const anomaly = { score: 0.25, contributions: [] } as never;

describe('history table rows', () => {
  it('builds telemetry rows with microsecond timestamps and lower-case sensor keys', () => {
    // Arrange
    const sample = { ...asset, ts: 1_700_000_000_123, seq: 7, readings: { Flow: 1.5, rpm: Number.NaN }, receivedAt: 1_700_000_001_000 };
    // Act
    const row = telemetryRow(sample);
    // Assert
    expect(row).toEqual({
      asset_id: 'pump-1', site_id: 'site-a', model_id: 'centrifugal-pump', ts: 1_700_000_000_123_000, seq: 7,
      readings: { flow: 1.5 }, component: null, received_at: 1_700_000_001_000_000,
    });
    expect(() => checkRow('telemetry', row)).not.toThrow();
  });

  it('writes a missing feature as null and keeps the vector in the given name order', () => {
    const row = featureRow(asset, { seq: 1, ts: 1000, t: 1000, vector: new Float64Array([1, Number.NaN, 3]), anomaly }, 'features-1', ['a', 'b', 'c']);
    expect(row.vector).toEqual([1, null, 3]);
    expect(() => checkRow('features', row)).not.toThrow();
  });

  it('stamps predictions with the model version only when a model scored them', () => {
    const scored = predictionRow(asset, { ts: 1, seq: 1, anomaly: 0.1, prediction: { failureProbability: 0.4, rul: null, scoredBy: 'in-process', componentFailure: { bearing: 0.2 } } }, 'abc123');
    const unscored = predictionRow(asset, { ts: 1, seq: 2, anomaly: 0.1, prediction: null }, 'abc123');
    expect(scored).toMatchObject({ model_version: 'abc123', failure_probability: 0.4, component_failure: { bearing: 0.2 } });
    expect(unscored).toMatchObject({ model_version: null, scored_by: 'none' });
    for (const r of [scored, unscored]) expect(() => checkRow('predictions', r)).not.toThrow();
  });

  it('builds rows that fit their tables for transitions, alerts, maintenance, events and quarantine', () => {
    const rows = [
      ['transitions', transitionRow(asset, { at: 5, seq: 3, scope: 'component', component: 'bearing', from: 'NORMAL', to: 'WARNING' } as never, 5000)],
      ['alerts', alertRow({ version: 1, alertId: 'x', assetId: 'pump-1', siteId: 's', assetModel: 'm', scope: 'asset', from: 'NORMAL', to: 'CRITICAL', severity: 'critical', at: '2026-01-01T00:00:00.000Z', seq: 3, scores: { risk: 0.9, anomaly: 0.5, failureProbability: null, rul: 12, rulUnit: 'hours' }, topContributors: [{ sensor: 'vibration', share: 0.7 }], estimatedCostAvoidedUsd: 1200 } as never)],
      ['maintenance', maintenanceRow({ ...asset, ts: 10, kind: 'replacement', component: 'bearing', receivedAt: 11 })],
      ['events', eventRow({ assetId: 'pump-1', siteId: 's', ts: 10, seq: 4, code: 'E17', severity: 'error' })],
      ['quarantine', quarantineRow({ reason: 'invalid_json', level: 'message', detail: 'bad', messageId: 'm1', topic: 't', receivedAt: 99, payload: '{' }, 's3://b/k.jsonl')],
    ] as const;
    for (const [table, row] of rows) expect(() => checkRow(table, row)).not.toThrow();
    expect(rows[1][1].ts).toBe(micros(Date.parse('2026-01-01T00:00:00.000Z')));
  });

  it('rejects unknown columns, missing required columns and wrong types by name', () => {
    expect(() => checkRow('events', { asset_id: 'a', ts: 1, code: 'E', extra: 1 })).toThrow(/unknown column "extra"/);
    expect(() => checkRow('events', { asset_id: 'a', ts: 1 })).toThrow(HistoryRowError);
    expect(() => checkRow('telemetry', { asset_id: 'a', ts: 1.5, seq: 1, readings: {} })).toThrow(/telemetry.ts/);
  });

  it('defines every table with asset or time columns and a day partition on ts', () => {
    for (const t of HISTORY_TABLES) {
      const def = TABLE_DEFS[t];
      expect(def.columns.some((c) => c.name === 'ts' && c.type === 'timestamp' && c.required)).toBe(true);
      expect(def.partition[0]).toEqual({ source: 'ts', transform: 'day' });
      expect(new Set(def.columns.map((c) => c.name)).size).toBe(def.columns.length);
      for (const p of def.partition) expect(def.columns.some((c) => c.name === p.source)).toBe(true);
    }
  });

  it('builds telemetry rows that always fit the table (property)', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.stringMatching(/^[A-Za-z][A-Za-z0-9_]{0,8}$/), fc.double()),
        fc.integer({ min: 0, max: 2 ** 41 }),
        fc.nat(),
        (readings, ts, seq) => {
          checkRow('telemetry', telemetryRow({ ...asset, ts, seq, readings, receivedAt: ts }));
        },
      ),
    );
  });
});

describe('trainingMatrix', () => {
  const names = ['a', 'b', 'c'];
  const rows = [
    { assetId: 'p1', seq: 1, ts: 0, vector: [1, 2, 3] },
    { assetId: 'p1', seq: 2, ts: 50, vector: [4, null, 6] },
    { assetId: 'p1', seq: 3, ts: 200, vector: [7, 8, 9] },
    { assetId: 'p2', seq: 1, ts: 0, vector: [] },
  ];

  it('labels rows followed by a failure within the horizon, in the manifest order, and leaves out censored rows', () => {
    // Act: a failure at 120 with horizon 100; history of p1 observed until 250.
    const m = trainingMatrix({
      rows, failures: new Map([['p1', [120]]]), observedUntil: new Map([['p1', 250]]), horizonMs: 100,
      engineNames: names, modelNames: ['c', 'a'],
    });
    // Assert: row 1 (0 → 100) has no failure: 0; row 2 (50 → 150) has: 1; row 3 (200 → 300) passes 250: censored.
    expect(m.lines).toEqual(['0,3,1', '1,6,4']);
    expect(m).toMatchObject({ positives: 1, censored: 1, withoutVector: 1 });
  });

  it('names the features the engine does not produce', () => {
    expect(() => trainingMatrix({ rows, failures: new Map(), observedUntil: new Map(), horizonMs: 1, engineNames: names, modelNames: ['zz'] })).toThrow(TrainingFeatureError);
  });

  it('parses vector text from either engine', () => {
    expect(parseVectorText('[1.5,null,2]')).toEqual([1.5, null, 2]);
    expect(parseVectorText([1, null])).toEqual([1, null]);
    expect(parseVectorText('')).toEqual([]);
  });
});
