import { describe, expect, it } from 'vitest';
import { defaultAlertPolicy } from '../../../lambdas/core/alerts/policy.ts';
import { fitRetrainDecision, parseSliceIndex, seriesOf, servedClassifierMetrics, SliceIndexError } from '../../../lambdas/core/retrain/decision.ts';
import { defaultHealthPolicy } from '../../../lambdas/core/twin/health.ts';

const H = 3_600_000;
const ctx = { health: defaultHealthPolicy('time'), alert: defaultAlertPolicy('time', 100), downtime: { unplanned: 24, planned: 4 }, horizon: 24 * H };
/** Two assets, 60 hourly rows each; asset b fails at hour 60, its last 24 rows are positive and score high. */
const index = {
  assetId: [...Array(60).fill('a'), ...Array(60).fill('b')],
  ts: [...Array.from({ length: 60 }, (_, i) => i * H), ...Array.from({ length: 60 }, (_, i) => i * H)],
  failures: { b: [60 * H] },
};
const labels = index.assetId.map((a, i) => (a === 'b' && i - 60 >= 36 ? 1 : 0));
const raw = labels.map((y, i) => (y === 1 ? 0.6 : 0.05 + (i % 3) * 0.01));

describe('retrain decision', () => {
  it('groups a slice into per-asset series in time order with their failures', () => {
    const shuffled = { assetId: ['b', 'a', 'b'], ts: [2, 1, 1], failures: { b: [5] } };
    expect(seriesOf(shuffled, [0.2, 0.1, 0.3])).toEqual([
      { key: 'b', t: [1, 2], p: [0.3, 0.2], failures: [5] },
      { key: 'a', t: [1], p: [0.1], failures: [] },
    ]);
  });

  it('fits a calibration that sends the positives above every negative and a WARNING that catches the failure', () => {
    const d = fitRetrainDecision(raw, labels, index, { ...ctx, describe: 'test slice' });
    expect(d.calibration.method).toBe('isotonic');
    expect(d.validation).toMatchObject({ failures: 1, caught: 1, falseAlerts: 0, rows: 120, positives: 24 });
    expect(d.alertThresholds.watch).toBeLessThan(d.alertThresholds.warning);
    expect(d.threshold).toBe(d.alertThresholds.warning);
  });

  it('measures a model without thresholds where its raw output reaches the health WARNING enter threshold', () => {
    // Raw 0.6 never reaches the policy's 0.7: served as is, the model never alerts and misses the failure.
    const asIs = servedClassifierMetrics(raw, labels, index, {}, ctx);
    expect(asIs).toMatchObject({ prAuc: 1, prAucRaw: 1, alertFailures: 1, alertsCaught: 0, alerts: 0 });
    const d = fitRetrainDecision(raw, labels, index, { ...ctx, describe: 'test slice' });
    const calibrated = servedClassifierMetrics(raw, labels, index, d, ctx);
    expect(calibrated).toMatchObject({ alertsCaught: 1, falseAlerts: 0 });
    expect(calibrated.brier).toBeLessThan(asIs.brier!);
  });

  it('refuses an index whose length differs from the CSV, or that is not an index', () => {
    expect(() => parseSliceIndex(index, 119, 'v.json')).toThrow(SliceIndexError);
    expect(() => parseSliceIndex({ assetId: [] }, 0, 'v.json')).toThrow(/ts/);
    expect(parseSliceIndex(index, 120, 'v.json').failures).toEqual({ b: [60 * H] });
  });
});
