import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_GATE_TOLERANCES, GateToleranceError, gateMetrics } from '../../../ml/registry/gate-metrics.ts';

describe('gateMetrics', () => {
  it('passes an RMSE rise of up to 2 % and fails one above it', () => {
    expect(gateMetrics({ rmse: 10 }, { rmse: 10.2 }).pass).toBe(true);
    const d = gateMetrics({ rmse: 10 }, { rmse: 10.21 });
    expect(d.pass).toBe(false);
    expect(d.reasons[0]).toMatch(/rmse: challenger 10.21 is above the limit 10.2/);
  });

  it('passes a PR-AUC fall of up to 0.01 and fails one beyond it', () => {
    expect(gateMetrics({ prAuc: 0.9 }, { prAuc: 0.8901 }).pass).toBe(true);
    expect(gateMetrics({ prAuc: 0.9 }, { prAuc: 0.889 }).pass).toBe(false);
  });

  it('needs every gated metric of the champion to pass, and fails a challenger that lacks one', () => {
    expect(gateMetrics({ prAuc: 0.9, rmse: 10 }, { prAuc: 0.95, rmse: 11 }).pass).toBe(false);
    const missing = gateMetrics({ prAuc: 0.9 }, { rmse: 3 });
    expect(missing.pass).toBe(false);
    expect(missing.reasons[0]).toMatch(/reports none/);
    expect(gateMetrics({ prAuc: 0.9 }, { prAuc: Number.NaN }).pass).toBe(false);
  });

  it('fails when the champion has no gated metric to compare, and ignores metrics it does not gate', () => {
    const d = gateMetrics({ rows: 10 }, { rows: 12, prAuc: 1 });
    expect(d.pass).toBe(false);
    expect(d.checks).toHaveLength(0);
    expect(gateMetrics({ prAuc: 0.5, rows: 1 }, { prAuc: 0.5, rows: 0 }).pass).toBe(true);
  });

  it('refuses negative or non-finite tolerances', () => {
    expect(() => gateMetrics({ rmse: 1 }, { rmse: 1 }, { rmseRelative: -0.1, prAucAbsolute: 0 })).toThrow(GateToleranceError);
    expect(() => gateMetrics({ rmse: 1 }, { rmse: 1 }, { rmseRelative: 0, prAucAbsolute: Number.NaN })).toThrow(GateToleranceError);
  });

  it('always passes a challenger equal to or better than the champion', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1e6, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), (pr, rm, gain) => {
        const champion = { prAuc: pr, rmse: rm };
        const challenger = { prAuc: Math.min(1, pr + gain * (1 - pr)), rmse: rm * (1 - gain) };
        expect(gateMetrics(champion, challenger, DEFAULT_GATE_TOLERANCES).pass).toBe(true);
      }),
    );
  });
});
