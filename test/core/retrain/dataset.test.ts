import { describe, expect, it } from 'vitest';
import { RetrainingDataError, retrainingDataset, type FailureEvent, type TrainingFeatureRow } from '../../../lambdas/core/history/training.ts';

const H = 3_600_000;
const names = ['a', 'b'];
/** One asset, a row an hour for 100 h, feature a = hour, b = missing every 10th row. */
const rows: TrainingFeatureRow[] = Array.from({ length: 100 }, (_, i) => ({ assetId: 'p1', seq: i, ts: i * H, vector: [i, i % 10 === 0 ? null : 1] }));
const base = { rows, observedUntil: new Map([['p1', 99 * H]]), engineNames: names, modelNames: ['b', 'a'] };

describe('retrainingDataset', () => {
  it('labels failures within the horizon, splits by time and keeps the manifest column order', () => {
    const failures = new Map<string, FailureEvent[]>([['p1', [{ ts: 40 * H, component: null }, { ts: 90 * H, component: 'bearing' }]]]);

    const d = retrainingDataset({ ...base, failures, target: { kind: 'failure', horizonMs: 5 * H } });

    // 95 rows are labelled with everything (the last 4 h are censored); the newest 20 % go to the holdout.
    expect(d.cutMs).toBe(76 * H);
    expect(d.holdout).toHaveLength(95 - 76);
    expect(d.holdout.filter((l) => l.startsWith('1,'))).toHaveLength(5);
    expect(d.train[0]).toBe('0,,0');
    expect(d.train[35]).toBe('1,1,35');
    expect(d.trainPositives).toBe(5);
    expect(d.holdoutPositives).toBe(5);
  });

  it('labels training rows as if history ended at the cut, so no training label sees the holdout period', () => {
    // A failure just after the cut: rows before the cut within the horizon must not learn it.
    const failures = new Map<string, FailureEvent[]>([['p1', [{ ts: 78 * H, component: null }]]]);

    const d = retrainingDataset({ ...base, failures, target: { kind: 'failure', horizonMs: 5 * H } });

    expect(d.trainPositives).toBe(0);
    // Rows 72..75 cannot be labelled at the cut (their horizon passes it): censored, not negative.
    expect(d.train).toHaveLength(72);
    expect(d.censored).toBe(4 + 5); // and rows 95..99, whose horizon passes the end of the history
  });

  it('counts only repairs naming the component for a component-failure predictor', () => {
    const failures = new Map<string, FailureEvent[]>([['p1', [{ ts: 40 * H, component: null }, { ts: 50 * H, component: 'bearing' }, { ts: 60 * H, component: 'seal' }]]]);

    const d = retrainingDataset({ ...base, failures, target: { kind: 'component-failure', horizonMs: 2 * H, component: 'bearing' } });

    expect(d.trainPositives).toBe(2);
    expect(d.train.filter((l) => l.startsWith('1,')).map((l) => l.split(',')[2])).toEqual(['48', '49']);
  });

  it('labels RUL as the time to the next failure, capped, and censors rows whose cap passes the end', () => {
    const failures = new Map<string, FailureEvent[]>([['p1', [{ ts: 30 * H, component: null }]]]);

    const d = retrainingDataset({ ...base, failures, target: { kind: 'rul', rulCapMs: 10 * H }, holdoutFraction: 0.5 });

    const labels = [...d.train, ...d.holdout].map((l) => Number(l.split(',')[0]));
    expect(Math.max(...labels)).toBe(10 * H);
    expect(labels).toContain(1 * H);
    expect(d.trainPositives + d.holdoutPositives).toBe(0);
  });

  it('refuses data without rows on both sides of the cut, and a bad fraction', () => {
    expect(() => retrainingDataset({ ...base, rows: rows.slice(0, 1), failures: new Map(), target: { kind: 'failure', horizonMs: H } })).toThrow(RetrainingDataError);
    expect(() => retrainingDataset({ ...base, failures: new Map(), target: { kind: 'failure', horizonMs: H }, holdoutFraction: 1 })).toThrow(/holdoutFraction/);
  });
});
