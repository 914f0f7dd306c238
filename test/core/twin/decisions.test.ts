import { describe, expect, it } from 'vitest';
import { DEFAULT_BASELINES } from '../../../lambdas/core/anomaly/index.ts';
import { CENTRIFUGAL_PUMP } from '../../../lambdas/core/catalog/index.ts';
import type { ModelDecisions } from '../../../lambdas/core/model/decision.ts';
import { defaultPolicies } from '../../../lambdas/core/pipeline.ts';
import type { CleanSample } from '../../../lambdas/core/types.ts';
import {
  completeBatch,
  type Prediction,
  prepareBatch,
  type Twin,
  type TwinInput,
} from '../../../lambdas/core/twin/twin.ts';

const model = CENTRIFUGAL_PUMP;
const baseline = DEFAULT_BASELINES[model.id]!;
const asset = { assetId: 'pump-7', siteId: 'site-a', modelId: model.id };
const ctx = { asset, model, baseline };
const T0 = Date.UTC(2026, 0, 1);
const MIN = 60_000;
/** Readings in the middle of the pump's healthy operating point. */
const healthy = { temperature: 51.8, vibration: 2.55, pressure: 8.38, flow: 173, rpm: 2915, current: 87 };

function samples(from: number, count: number, stepMin = 10, first = 1): TwinInput[] {
  return Array.from({ length: count }, (_, i): TwinInput => {
    const sample: CleanSample = {
      assetId: asset.assetId,
      siteId: asset.siteId,
      modelId: model.id,
      ts: from + i * stepMin * MIN,
      seq: first + i,
      readings: { ...healthy },
      receivedAt: from + i * stepMin * MIN,
      messageId: `m${first + i}`,
    };
    return { kind: 'sample', sample };
  });
}

const decisions: ModelDecisions = {
  failure: { watch: 0.05, warning: 0.1, critical: 0.3, basis: 'test' },
  components: { bearing: { watch: 0.04, warning: 0.08, critical: 0.2, basis: 'test' } },
};

function apply(current: Twin | undefined, inputs: TwinInput[], predict: (i: number) => Prediction | null) {
  const prepared = prepareBatch(current, inputs, ctx);
  const predictions = prepared.rows.map((_, i) => predict(i));
  return completeBatch(prepared, predictions, ctx, defaultPolicies(model, decisions));
}

describe('twin decisions from calibrated probabilities', () => {
  it('enters WARNING when the calibrated probability reaches the model threshold, naming the failure model', () => {
    const warm = apply(undefined, samples(T0, 12), () => ({ failureProbability: 0.01, rul: null, scoredBy: 'in-process' }));
    expect(warm.twin.health.state).toBe('NORMAL');

    // 0.12 is far below the old fixed 0.7, but above this model's WARNING threshold of 0.1.
    const done = apply(warm.twin, samples(T0 + 12 * 10 * MIN, 3, 10, 13), () => ({
      failureProbability: 0.12,
      rul: null,
      scoredBy: 'in-process',
    }));

    const warning = done.alerts.find((a) => a.scope === 'asset' && a.to === 'WARNING');
    expect(warning?.driver).toEqual({ signal: 'failure-model', risk: expect.any(Number) });
    expect(warning!.scores.failureProbability).toBe(0.12);
    expect(done.twin.scores?.driver?.signal).toBe('failure-model');
    // The documented saving: p × (24 − 4) h × $2,000/h, with no RUL to shorten the lead.
    expect(warning!.estimatedCostAvoidedUsd).toBeCloseTo(0.12 * 20 * 2_000, 2);
  });

  it('names the component and its model when a component classifier drives the asset', () => {
    const warm = apply(undefined, samples(T0, 12), () => null);
    const done = apply(warm.twin, samples(T0 + 120 * MIN, 3, 10, 13), () => ({
      failureProbability: 0.01,
      rul: null,
      componentFailure: { bearing: 0.25 },
      scoredBy: 'in-process',
    }));

    const bearing = done.alerts.find((a) => a.scope === 'component' && a.component === 'bearing' && a.to === 'CRITICAL');
    expect(bearing?.driver).toMatchObject({ signal: 'component-model', component: 'bearing' });
    // A component alert quotes the component's own probability, not the asset's 0.01.
    expect(bearing!.scores.failureProbability).toBe(0.25);
    expect(done.twin.scores?.driver).toMatchObject({ signal: 'component-model', component: 'bearing' });
    expect(done.twin.components.bearing!.driver?.signal).toBe('component-model');
  });

  it('holds a new asset below WARNING until it has its warm-up evidence, then lets it escalate', () => {
    const alarming = (): Prediction => ({ failureProbability: 0.9, rul: null, scoredBy: 'in-process' });

    // Three samples 10 minutes apart: the pump needs 6 over an hour.
    const early = apply(undefined, samples(T0, 3), alarming);
    expect(early.twin.health.state).toBe('WATCH');
    expect(early.twin.scores?.warmingUp).toBe(true);
    expect(early.twin.scores!.risk).toBeLessThan(0.7);
    expect(early.alerts.filter((a) => a.severity !== 'info')).toEqual([]);

    const later = apply(early.twin, samples(T0 + 30 * MIN, 6, 10, 4), alarming);
    expect(later.twin.health.state).toBe('CRITICAL');
    expect(later.twin.scores?.warmingUp).toBeUndefined();
  });

  it('holds a newly replaced component below WARNING for its warm-up span', () => {
    const warm = apply(undefined, samples(T0, 12), () => null);
    const replacedAt = T0 + 120 * MIN;
    const replacement: TwinInput = {
      kind: 'maintenance',
      event: { assetId: asset.assetId, siteId: asset.siteId, modelId: model.id, ts: replacedAt, kind: 'replacement', component: 'bearing', receivedAt: replacedAt },
    };
    const worn = (): Prediction => ({ failureProbability: 0, rul: null, componentFailure: { bearing: 0.5 }, scoredBy: 'in-process' });

    const soon = apply(warm.twin, [replacement, ...samples(replacedAt + 10 * MIN, 4, 10, 13)], worn);
    expect(soon.twin.components.bearing!.health.state).not.toMatch(/WARNING|CRITICAL/);
    expect(soon.alerts.some((a) => a.component === 'bearing' && a.severity !== 'info')).toBe(false);

    const after = apply(soon.twin, samples(replacedAt + 70 * MIN, 3, 10, 17), worn);
    expect(after.twin.components.bearing!.health.state).toBe('CRITICAL');
  });

  it('reaches the same twin whether the warm-up crosses a batch boundary or not', () => {
    const p = (): Prediction => ({ failureProbability: 0.5, rul: null, scoredBy: 'in-process' });
    const whole = apply(undefined, samples(T0, 10), p);
    const first = apply(undefined, samples(T0, 4), p);
    const split = apply(first.twin, samples(T0 + 40 * MIN, 6, 10, 5), p);

    const { version: _a, ...a } = whole.twin;
    const { version: _b, ...b } = split.twin;
    expect(b).toEqual(a);
  });
});
