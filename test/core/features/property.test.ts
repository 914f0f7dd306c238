import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AssetModel } from '../../../lambdas/core/catalog/index.ts';
import { CENTRIFUGAL_PUMP, TURBOFAN } from '../../../lambdas/core/catalog/index.ts';
import {
  batchFeatureVector,
  createFeatureState,
  type FeatureSample,
  featureStateBytes,
  featureVector,
  restartFeatureHistory,
  updateFeatureState,
} from '../../../lambdas/core/features/index.ts';
import { CTX, firstMismatch, LONG_CYCLE, MINI_TIME, samplesArb } from './helpers.ts';

const HOUR = 3_600_000;
const EPOCH = 1_735_689_600_000; // 2025-01-01T00:00:00Z

interface Case {
  readonly model: AssetModel;
  /** Time range of generated samples: more than twice the long window, so gaps exceed it. */
  readonly span: number;
  readonly base: number;
}

const CASES: readonly Case[] = [
  { model: TURBOFAN, span: 80, base: 1 },
  { model: LONG_CYCLE, span: 320, base: 1 },
  { model: MINI_TIME, span: 1_000_000, base: EPOCH },
  { model: CENTRIFUGAL_PUMP, span: 16 * 24 * HOUR, base: EPOCH },
];

/** `now` is usually the greatest t; sometimes later (windows roll past the data) or earlier. */
function nowFor(samples: readonly FeatureSample[], shift: number): number {
  const maxT = samples.reduce((m, s) => Math.max(m, s.t), 0);
  return maxT + shift;
}

describe('feature engine (incremental vs batch)', () => {
  it.each(CASES.map((c) => [c.model.id, c] as const))(
    'matches the batch reference on random streams for %s',
    (_, { model, span, base }) => {
      const shift = fc.oneof(
        { weight: 4, arbitrary: fc.constant(0) },
        { weight: 1, arbitrary: fc.integer({ min: -Math.floor(span / 8), max: Math.floor(span / 4) }) },
      );
      fc.assert(
        fc.property(samplesArb(model, span, base), shift, (samples, dt) => {
          // Arrange
          const state = createFeatureState(model);
          const now = nowFor(samples, dt);
          // Act
          for (const s of samples) updateFeatureState(state, model, s.t, s.readings);
          const incremental = featureVector(state, model, now, CTX);
          const batch = batchFeatureVector(model, samples, now, CTX);
          // Assert
          expect(firstMismatch(model, incremental, batch)).toBeNull();
          expect(JSON.stringify(state).length).toBeLessThanOrEqual(featureStateBytes(model));
        }),
        { numRuns: 120 },
      );
    },
  );

  it.each(CASES.map((c) => [c.model.id, c] as const))(
    'gives bit-identical vectors after JSON round trips at random points for %s',
    (_, { model, span, base }) => {
      fc.assert(
        fc.property(samplesArb(model, span, base), fc.array(fc.nat(), { maxLength: 6 }), (samples, cuts) => {
          // Arrange
          const plain = createFeatureState(model);
          let revived = createFeatureState(model);
          const cutAt = new Set(cuts.map((c) => c % (samples.length + 1)));
          const now = nowFor(samples, 0);
          const vectors: Float64Array[] = [];
          // Act
          samples.forEach((s, i) => {
            if (cutAt.has(i)) revived = JSON.parse(JSON.stringify(revived));
            updateFeatureState(plain, model, s.t, s.readings);
            updateFeatureState(revived, model, s.t, s.readings);
            vectors.push(featureVector(plain, model, s.t, CTX), featureVector(revived, model, s.t, CTX));
          });
          // Assert
          expect(JSON.parse(JSON.stringify(revived))).toEqual(plain);
          for (let i = 0; i < vectors.length; i += 2) expect(vectors[i + 1]).toEqual(vectors[i]);
          expect(featureVector(revived, model, now, CTX)).toEqual(featureVector(plain, model, now, CTX));
        }),
        { numRuns: 60 },
      );
    },
  );

  it.each(CASES.map((c) => [c.model.id, c] as const))(
    'does not depend on the arrival order of samples that are not late for %s',
    (_, { model, span, base }) => {
      fc.assert(
        fc.property(samplesArb(model, span, base, 40), fc.infiniteStream(fc.nat()), (samples, keys) => {
          // Arrange: the oldest-first order never makes a sample late, so any order of those same
          // samples that also has none late must give the same vector.
          const sorted = [...samples].sort((a, b) => a.t - b.t);
          const shuffled = samples
            .map((s) => ({ s, k: keys.next().value as number }))
            .sort((a, b) => a.k - b.k);
          const now = nowFor(samples, 0);
          const a = createFeatureState(model);
          const b = createFeatureState(model);
          // Act
          for (const s of sorted) updateFeatureState(a, model, s.t, s.readings);
          for (const { s } of shuffled) updateFeatureState(b, model, s.t, s.readings);
          // Assert
          fc.pre(a.n === b.n);
          expect(
            firstMismatch(model, featureVector(b, model, now, CTX), featureVector(a, model, now, CTX)),
          ).toBeNull();
        }),
        { numRuns: 60 },
      );
    },
  );
});

describe('feature engine whole history with replacements (incremental vs batch)', () => {
  const componentsArb = (model: AssetModel) =>
    fc.oneof(
      fc.constant<'all'>('all'),
      fc.subarray(Object.keys(model.components), { minLength: 1 }),
    );

  it.each(CASES.map((c) => [c.model.id, c] as const))(
    'matches the batch reference when replacements restart the history for %s',
    (_, { model, span, base }) => {
      fc.assert(
        fc.property(
          samplesArb(model, span, base),
          fc.array(
            fc.record({ at: fc.nat(), t: fc.integer({ min: 0, max: span }), components: componentsArb(model) }),
            { maxLength: 4 },
          ),
          (samples, raw) => {
            // Arrange: resets applied before the sample at `before` arrives (or after the last one).
            const resets = raw
              .map((r) => ({ before: r.at % (samples.length + 1), t: base + r.t, components: r.components }))
              .sort((a, b) => a.before - b.before);
            const state = createFeatureState(model);
            const now = nowFor(samples, 0);
            // Act
            let next = 0;
            samples.forEach((s, i) => {
              while (next < resets.length && resets[next]!.before === i) {
                const r = resets[next++]!;
                restartFeatureHistory(state, model, r.t, r.components);
              }
              updateFeatureState(state, model, s.t, s.readings);
            });
            for (; next < resets.length; next++) {
              restartFeatureHistory(state, model, resets[next]!.t, resets[next]!.components);
            }
            const incremental = featureVector(state, model, now, CTX);
            const batch = batchFeatureVector(model, samples, now, CTX, resets);
            // Assert
            expect(firstMismatch(model, incremental, batch)).toBeNull();
            expect(JSON.stringify(state).length).toBeLessThanOrEqual(featureStateBytes(model));
          },
        ),
        { numRuns: 100 },
      );
    },
  );
});
