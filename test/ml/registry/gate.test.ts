import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { evaluationsOf } from '../../../ml/registry/evaluations.ts';
import { gate, type GateInput, limitOf, TOLERANCES } from '../../../ml/registry/gate.ts';
import type { Evaluation } from '../../../ml/registry/record.ts';

const EV = 'ev-0123456789abcdef';
const OTHER_EV = 'ev-fedcba9876543210';

function version(id: string, metrics: Record<string, number>, evId = EV): GateInput {
  return { id, assetModel: 'turbofan', evaluations: [{ id: evId, name: 'test', kind: 'held-out', description: '', metrics }] };
}

/** Turbofan-like metrics: RMSE in cycles, PR-AUC in [0, 1], replay counts. */
const metricsArb = fc.record({
  'rul.rmse': fc.double({ min: 1, max: 100, noNaN: true }),
  'failure.prAuc': fc.double({ min: 0, max: 1, noNaN: true }),
  'replay.preceded': fc.integer({ min: 0, max: 30 }),
  'replay.falseAlerts': fc.integer({ min: 0, max: 30 }),
});

/** A value strictly beyond the tolerance in the bad direction. */
function worse(metric: string, value: number, by: number): number {
  const t = TOLERANCES[metric.slice(metric.lastIndexOf('.') + 1)]!;
  const limit = limitOf(value, t);
  const step = Math.max(by, Math.abs(limit) * 1e-9, 1e-9);
  return t.better === 'lower' ? limit + step : limit - step;
}

describe('gate', () => {
  it('passes a challenger identical to the champion', () => {
    fc.assert(
      fc.property(metricsArb, (m) => {
        const result = gate(version('turbofan@1', m), version('turbofan@2', m));
        expect(result.pass).toBe(true);
        expect(result.checks.every((c) => c.comparable && c.ok)).toBe(true);
      }),
    );
  });

  it('refuses a challenger worse than the champion beyond the tolerance on any one gated metric', () => {
    fc.assert(
      fc.property(
        metricsArb,
        fc.constantFrom('rul.rmse', 'failure.prAuc', 'replay.preceded', 'replay.falseAlerts'),
        fc.double({ min: 1e-6, max: 10, noNaN: true }),
        (m, metric, by) => {
          const challenger = { ...m, [metric]: worse(metric, m[metric as keyof typeof m], by) };
          const result = gate(version('turbofan@1', m), version('turbofan@2', challenger));
          expect(result.pass).toBe(false);
          expect(result.reason).toMatch(/^worse than turbofan@1/);
          expect(result.checks.find((c) => c.metric === metric)?.ok).toBe(false);
        },
      ),
    );
  });

  it('passes a challenger that is better or equal on every gated metric', () => {
    fc.assert(
      fc.property(metricsArb, fc.double({ min: 0, max: 5, noNaN: true }), (m, gain) => {
        const better = {
          'rul.rmse': Math.max(0, m['rul.rmse'] - gain),
          'failure.prAuc': Math.min(1, m['failure.prAuc'] + gain),
          'replay.preceded': m['replay.preceded'] + Math.round(gain),
          'replay.falseAlerts': Math.max(0, m['replay.falseAlerts'] - Math.round(gain)),
        };
        expect(gate(version('turbofan@1', m), version('turbofan@2', better)).pass).toBe(true);
      }),
    );
  });

  it('allows exactly the stated tolerances: RMSE +2 %, PR-AUC −0.01, preceded −0, false alerts +1', () => {
    const champion = version('turbofan@1', { 'rul.rmse': 10, 'failure.prAuc': 0.9, 'replay.preceded': 11, 'replay.falseAlerts': 2 });
    const atLimit = version('turbofan@2', { 'rul.rmse': 10.2, 'failure.prAuc': 0.89, 'replay.preceded': 11, 'replay.falseAlerts': 3 });
    const oneFewerCaught = version('turbofan@3', { 'rul.rmse': 10, 'failure.prAuc': 0.9, 'replay.preceded': 10, 'replay.falseAlerts': 2 });

    expect(gate(champion, atLimit).pass).toBe(true);
    expect(gate(champion, oneFewerCaught).pass).toBe(false);
  });

  it('compares only metrics measured on the same evaluation, and refuses when none is', () => {
    const champion = version('turbofan@1', { 'rul.rmse': 10 });
    const elsewhere = version('turbofan@2', { 'rul.rmse': 5 }, OTHER_EV);

    const result = gate(champion, elsewhere);

    expect(result.pass).toBe(false);
    expect(result.reason).toMatch(/^not comparable: rul\.rmse: measured on different evaluations.*--force --reason/);
    expect(result.checks[0]).toMatchObject({ comparable: false, ok: false });
  });

  it('passes on the comparable metrics and lists the others as not comparable', () => {
    const champion: GateInput = {
      id: 'turbofan@1',
      assetModel: 'turbofan',
      evaluations: [
        { id: EV, name: 'test', kind: 'held-out', description: '', metrics: { 'rul.rmse': 10 } },
        { id: OTHER_EV, name: 'valid', kind: 'validation', description: '', metrics: { 'failure.prAuc': 0.9 } },
      ],
    };
    const challenger: GateInput = {
      id: 'turbofan@2',
      assetModel: 'turbofan',
      evaluations: [
        { id: EV, name: 'test', kind: 'held-out', description: '', metrics: { 'rul.rmse': 10.1 } },
        { id: 'ev-1111111111111111', name: 'valid', kind: 'validation', description: '', metrics: { 'failure.prAuc': 0.5 } },
      ],
    };

    const result = gate(champion, challenger);

    expect(result.pass).toBe(true);
    expect(result.reason).toMatch(/1 metric\(s\), 1 not comparable/);
  });

  it('passes anything when there is no champion, and refuses across asset models', () => {
    const v = version('turbofan@1', { 'rul.rmse': 10 });

    expect(gate(null, v).pass).toBe(true);
    expect(gate({ ...v, id: 'centrifugal-pump@1', assetModel: 'centrifugal-pump' }, v).pass).toBe(false);
  });

  it('ignores metrics that are not gated', () => {
    const result = gate(version('turbofan@1', { 'rul.nasaScore': 100 }), version('turbofan@2', { 'rul.nasaScore': 900 }));

    expect(result.checks).toEqual([]);
    expect(result.reason).toMatch(/neither version has a gated metric/);
  });
});

describe('evaluationsOf', () => {
  const rul = { name: 'rul', kind: 'rul', rulCap: 125, trainingDataHash: 'fd001', params: { seed: 1, validFraction: 0.2 } };

  it('puts the turbofan test RMSE on the FD001 test evaluation whatever the seed, validation RMSE per seed', () => {
    const a = evaluationsOf('turbofan', [{ ...rul, metrics: { rmse: 10, validRmse: 8 } }]);
    const b = evaluationsOf('turbofan', [{ ...rul, params: { seed: 2, validFraction: 0.2 }, metrics: { rmse: 11, validRmse: 9 } }]);
    const test = (evs: Evaluation[]) => evs.find((e) => 'rul.rmse' in e.metrics)!;
    const valid = (evs: Evaluation[]) => evs.find((e) => 'rul.validRmse' in e.metrics)!;

    expect(test(a)).toMatchObject({ name: 'cmapss-fd001-test', kind: 'held-out' });
    expect(test(a).id).toBe(test(b).id);
    expect(valid(a).id).not.toBe(valid(b).id);
  });

  it('gives the pump test metrics of different training data different evaluation ids', () => {
    const p = { name: 'failure', kind: 'failure', horizon: 86_400_000, metrics: { prAuc: 0.9 } };
    const [a] = evaluationsOf('centrifugal-pump', [{ ...p, trainingDataHash: 'seed1' }]);
    const [b] = evaluationsOf('centrifugal-pump', [{ ...p, trainingDataHash: 'seed2' }]);

    expect(a!.id).not.toBe(b!.id);
    expect(a!.kind).toBe('held-out');
  });

  describe('with a retrained challenger (comparedWith)', () => {
    const retrained = (metrics: Record<string, number>, champion: string, championMetrics: Record<string, number>): GateInput => ({
      ...version('turbofan@3', metrics, OTHER_EV),
      comparedWith: { version: champion, evaluation: OTHER_EV, metrics: championMetrics },
    });

    it('compares on the challenger\'s evaluation with the champion figures the retrain measured there', () => {
      fc.assert(
        fc.property(metricsArb, metricsArb, (championOwn, onHeldOut) => {
          const result = gate(version('turbofan@1', championOwn), retrained(onHeldOut, 'turbofan@1', onHeldOut));
          expect(result.pass).toBe(true);
          expect(result.checks.every((c) => c.comparable && c.evaluation === `test ${OTHER_EV}`)).toBe(true);
          expect(result.checks.map((c) => c.champion)).toEqual(result.checks.map((c) => onHeldOut[c.metric as keyof typeof onHeldOut]));
        }),
      );
    });

    it('refuses a retrained challenger worse than the champion on the same held-out rows, whatever the champion\'s own figures', () => {
      fc.assert(
        fc.property(metricsArb, metricsArb, fc.double({ min: 1e-6, max: 10, noNaN: true }), (championOwn, onHeldOut, by) => {
          const challenger = { ...onHeldOut, 'rul.rmse': worse('rul.rmse', onHeldOut['rul.rmse'], by) };
          const result = gate(version('turbofan@1', championOwn), retrained(challenger, 'turbofan@1', onHeldOut));
          expect(result.pass).toBe(false);
          expect(result.checks.find((c) => c.metric === 'rul.rmse')).toMatchObject({ comparable: true, ok: false });
        }),
      );
    });

    it('is not comparable when the retrain was compared with another version than the current champion', () => {
      const m = { 'rul.rmse': 10, 'failure.prAuc': 0.9 };
      const result = gate(version('turbofan@2', m), retrained(m, 'turbofan@1', m));
      expect(result.pass).toBe(false);
      expect(result.reason).toMatch(/^not comparable/);
      expect(result.checks.every((c) => !c.comparable && /compared with turbofan@1, the champion is turbofan@2/.test(c.note ?? ''))).toBe(true);
    });

    it('keeps comparing same-evaluation metrics directly', () => {
      const m = { 'rul.rmse': 10 };
      const challenger: GateInput = { ...version('turbofan@3', { 'rul.rmse': 30 }), comparedWith: { version: 'turbofan@1', evaluation: OTHER_EV, metrics: { 'rul.rmse': 40 } } };
      const result = gate(version('turbofan@1', m), challenger);
      expect(result.pass).toBe(false);
      expect(result.checks[0]).toMatchObject({ champion: 10, challenger: 30, comparable: true, ok: false });
    });
  });
});
