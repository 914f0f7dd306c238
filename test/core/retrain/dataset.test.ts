import { describe, expect, it } from 'vitest';
import { RetrainingDataError, retrainingDataset, type FailureEvent, type TrainingFeatureRow } from '../../../lambdas/core/history/training.ts';

const H = 3_600_000;
const names = ['a', 'b'];
/** One asset, a row an hour for 100 h, feature a = hour, b = missing every 10th row. */
const rows: TrainingFeatureRow[] = Array.from({ length: 100 }, (_, i) => ({ assetId: 'p1', seq: i, ts: i * H, vector: [i, i % 10 === 0 ? null : 1] }));
const base = { rows, observedUntil: new Map([['p1', 99 * H]]), engineNames: names, modelNames: ['b', 'a'] };

describe('retrainingDataset', () => {
  it('labels failures within the horizon, splits the observed time 60/20/20 and keeps the manifest column order', () => {
    const failures = new Map<string, FailureEvent[]>([['p1', [{ ts: 40 * H, component: null }, { ts: 70 * H, component: null }, { ts: 90 * H, component: 'bearing' }]]]);

    const d = retrainingDataset({ ...base, failures, target: { kind: 'failure', horizonMs: 5 * H } });

    // Rows 0..94 are labelled with everything (95..99 are censored): the span is 94 h, cut at 60 % and 80 %.
    expect(d.validFromMs).toBe(56.4 * H);
    expect(d.cutMs).toBe(75.2 * H);
    // Training rows end at the validation start: 52..56 cannot be labelled there and are censored.
    expect(d.train).toHaveLength(52);
    expect(d.train[0]).toBe('0,,0');
    expect(d.train[35]).toBe('1,1,35');
    expect(d.trainPositives).toBe(5);
    expect(d.validation).toHaveLength(19);
    expect(d.validationPositives).toBe(5);
    expect(d.validationIndex.ts).toEqual(Array.from({ length: 19 }, (_, i) => (57 + i) * H));
    expect(d.validationIndex.assetId.every((a) => a === 'p1')).toBe(true);
    expect(d.validationIndex.failures).toEqual({ p1: [40 * H, 70 * H, 90 * H] });
    expect(d.holdout).toHaveLength(95 - 76);
    expect(d.holdoutPositives).toBe(5);
    expect(d.holdoutIndex.ts[0]).toBe(76 * H);
  });

  it('labels training rows as if history ended at the validation start, so no training label sees a later slice', () => {
    // A failure just after the validation start: training rows within the horizon must not learn it.
    const failures = new Map<string, FailureEvent[]>([['p1', [{ ts: 58 * H, component: null }]]]);

    const d = retrainingDataset({ ...base, failures, target: { kind: 'failure', horizonMs: 5 * H } });

    expect(d.validFromMs).toBe(56.4 * H);
    expect(d.trainPositives).toBe(0);
    // Rows 52..56 cannot be labelled at the validation start (their horizon passes it): censored, not negative.
    expect(d.train).toHaveLength(52);
    expect(d.validationPositives).toBe(1); // row 57, the first validation row; rows 53..56 are training rows
    expect(d.censored).toBe(5 + 5); // and rows 95..99, whose horizon passes the end of the history
  });

  it('counts only repairs naming the component for a component-failure predictor', () => {
    const failures = new Map<string, FailureEvent[]>([['p1', [{ ts: 40 * H, component: null }, { ts: 50 * H, component: 'bearing' }, { ts: 60 * H, component: 'seal' }]]]);

    const d = retrainingDataset({ ...base, failures, target: { kind: 'component-failure', horizonMs: 2 * H, component: 'bearing' } });

    expect(d.trainPositives).toBe(2);
    expect(d.train.filter((l) => l.startsWith('1,')).map((l) => l.split(',')[2])).toEqual(['48', '49']);
    expect(d.validationIndex.failures).toEqual({ p1: [50 * H] });
  });

  it('labels RUL as the time to the next failure, capped, and censors rows whose cap passes the end', () => {
    const failures = new Map<string, FailureEvent[]>([['p1', [{ ts: 30 * H, component: null }]]]);

    const d = retrainingDataset({ ...base, failures, target: { kind: 'rul', rulCapMs: 10 * H }, holdoutFraction: 0.5 });

    const labels = [...d.train, ...d.validation, ...d.holdout].map((l) => Number(l.split(',')[0]));
    expect(Math.max(...labels)).toBe(10 * H);
    expect(labels).toContain(1 * H);
    expect(d.trainPositives + d.validationPositives + d.holdoutPositives).toBe(0);
  });

  it('refuses data that leaves a slice empty, and bad fractions', () => {
    expect(() => retrainingDataset({ ...base, rows: rows.slice(0, 1), failures: new Map(), target: { kind: 'failure', horizonMs: H } })).toThrow(RetrainingDataError);
    expect(() => retrainingDataset({ ...base, failures: new Map(), target: { kind: 'failure', horizonMs: H }, holdoutFraction: 1 })).toThrow(/holdoutFraction/);
    expect(() => retrainingDataset({ ...base, failures: new Map(), target: { kind: 'failure', horizonMs: H }, holdoutFraction: 0.5, validationFraction: 0.5 })).toThrow(/validationFraction/);
  });
});
