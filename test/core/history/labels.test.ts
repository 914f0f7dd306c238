import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { labelRows, timeSplit } from '../../../lambdas/core/history/labels.ts';

const H = 3_600_000;
const row = (ts: number, assetId = 'pump-001') => ({ assetId, seq: ts / H, ts, vector: [1, 2] });
const label = (ts: number[], failures: number[], end: number) =>
  labelRows({ rows: ts.map((t) => row(t)), failures: new Map([['pump-001', failures]]), observedUntil: new Map([['pump-001', end]]), horizonMs: 24 * H, rulCapMs: 48 * H }, 2);

describe('labelRows', () => {
  it('labels a row 1 when a repair/replacement follows within the horizon, 0 when none does and the horizon was observed', () => {
    const [soon, later, after] = label([0, 10 * H, 40 * H], [30 * H], 100 * H);
    expect(soon).toMatchObject({ failure: 0, rul: 30 * H });
    expect(later).toMatchObject({ failure: 1, rul: 20 * H });
    expect(after).toMatchObject({ failure: 0, rul: 48 * H });
  });

  it('censors a row whose horizon or cap passes the end of the observed history without a failure', () => {
    const [a, b] = label([60 * H, 90 * H], [], 100 * H);
    expect(a!.failure).toBe(0);
    expect(a!.rul).toBeNaN();
    expect(b!.failure).toBeNaN();
    expect(b!.rul).toBeNaN();
  });

  it('leaves out rows without a full feature vector', () => {
    const out = labelRows({ rows: [{ ...row(0), vector: [] }], failures: new Map(), observedUntil: new Map(), horizonMs: H, rulCapMs: H }, 2);
    expect(out).toHaveLength(0);
  });

  it('never labels RUL above the cap nor a failure with a repair outside the horizon', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 200 }), { maxLength: 30 }), fc.array(fc.integer({ min: 0, max: 200 }), { maxLength: 5 }), (ts, fs) => {
        for (const r of label(ts.map((t) => t * H), fs.map((f) => f * H), 200 * H)) {
          if (!Number.isNaN(r.rul)) expect(r.rul).toBeLessThanOrEqual(48 * H);
          const within = fs.some((f) => f * H > r.ts && f * H <= r.ts + 24 * H);
          if (r.failure === 1) expect(within).toBe(true);
          if (within) expect(r.failure).toBe(1);
        }
      }),
    );
  });
});

describe('timeSplit', () => {
  it('cuts the observed time at the fractions and ends training a horizon before validation', () => {
    const s = timeSplit(0, 100 * H, { validAt: 0.6, testAt: 0.8, purgeMs: 24 * H });
    expect(s).toEqual({ trainUntil: 36 * H, validFrom: 60 * H, validUntil: 80 * H, testFrom: 80 * H });
  });
});
