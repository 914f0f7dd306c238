import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CENTRIFUGAL_PUMP, INDUSTRIAL_MACHINE, TURBOFAN } from '../../../lambdas/core/catalog/index.ts';
import {
  batchFeatureVector,
  createFeatureState,
  featureStateBytes,
  featureVector,
  updateFeatureState,
} from '../../../lambdas/core/features/index.ts';
import { CTX, firstMismatch } from './helpers.ts';

const DATA = join(import.meta.dirname, '../../../../shared/data');
const MINUTE = 60_000;
const EPOCH = 1_735_689_600_000;

/** C-MAPSS FD001 training engines as samples in catalog sensor order (columns 3–26). */
function cmapss(): Map<number, { t: number; readings: Record<string, number> }[]> {
  const names = Object.keys(TURBOFAN.sensors);
  const engines = new Map<number, { t: number; readings: Record<string, number> }[]>();
  for (const line of readFileSync(join(DATA, 'cmapss/train_FD001.txt'), 'utf8').trim().split('\n')) {
    const cols = line.trim().split(/\s+/).map(Number);
    const readings = Object.fromEntries(names.map((n, i) => [n, cols[2 + i]!]));
    const list = engines.get(cols[0]!) ?? [];
    list.push({ t: cols[1]!, readings });
    engines.set(cols[0]!, list);
  }
  return engines;
}

describe('feature state size', () => {
  it('states an upper bound within 27 KB for every shipped model', () => {
    // The bound counts every double at its longest JSON text (25 characters) and every event count at
    // 16 digits; the event-count rings (at most ~7.5 KB of it) are mostly zeros in practice, and the
    // whole-history block (7 numbers per sensor) adds about 2.5 KB for the turbofan's 14 sensors.
    expect(featureStateBytes(TURBOFAN)).toBeLessThanOrEqual(27 * 1024);
    expect(featureStateBytes(CENTRIFUGAL_PUMP)).toBeLessThanOrEqual(27 * 1024);
    expect(featureStateBytes(INDUSTRIAL_MACHINE)).toBeLessThanOrEqual(27 * 1024);
  });

  it('stays within the bound on worst-case-length readings', () => {
    // Arrange: values with 17 significant digits and tiny magnitudes, every bucket holding 2+ samples.
    for (const model of [TURBOFAN, CENTRIFUGAL_PUMP, INDUSTRIAL_MACHINE]) {
      const state = createFeatureState(model);
      const step = model.clock === 'cycle' ? 1 : 5 * MINUTE;
      const base = model.clock === 'cycle' ? 1 : EPOCH;
      // Act
      for (let i = 0; i < 4000; i++) {
        const readings: Record<string, number> = {};
        for (const [name, spec] of Object.entries(model.sensors)) {
          readings[name] =
            spec.min < 0 && i % 2
              ? -0.0000012345678901234567
              : spec.min + (spec.max - spec.min) / (3 + (i % 7));
        }
        updateFeatureState(state, model, base + Math.floor(i / 2) * step + (i % 2) * 7, readings);
      }
      // Assert
      expect(JSON.stringify(state).length, model.id).toBeLessThanOrEqual(featureStateBytes(model));
    }
  });

  it('keeps realistic states within 8 KB for the pump and the industrial machine', () => {
    // Arrange: one sample per minute for 10 days, readings with 2 decimals as devices send them.
    for (const model of [CENTRIFUGAL_PUMP, INDUSTRIAL_MACHINE]) {
      const state = createFeatureState(model);
      let max = 0;
      // Act
      for (let i = 0; i < 10 * 24 * 60; i++) {
        const readings: Record<string, number> = {};
        for (const [name, spec] of Object.entries(model.sensors)) {
          const x = spec.min + (spec.max - spec.min) * (0.5 + 0.1 * Math.sin(i / 37 + name.length));
          readings[name] = Math.round(x * 100) / 100;
        }
        updateFeatureState(state, model, EPOCH + i * MINUTE, readings);
        if (i % 101 === 0) max = Math.max(max, JSON.stringify(state).length);
      }
      // Assert
      expect(max, model.id).toBeLessThanOrEqual(8 * 1024);
    }
  });

  it('keeps C-MAPSS engine states small and equal to the batch reference on real data', () => {
    // Arrange
    const engines = cmapss();
    expect(engines.size).toBe(100);
    for (const unit of [1, 2, 50, 100]) {
      const samples = engines.get(unit)!;
      const state = createFeatureState(TURBOFAN);
      // Act
      for (const s of samples) updateFeatureState(state, TURBOFAN, s.t, s.readings);
      const now = samples.at(-1)!.t;
      // Assert
      expect(JSON.stringify(state).length).toBeLessThanOrEqual(5 * 1024);
      const incremental = featureVector(state, TURBOFAN, now, CTX);
      expect(
        firstMismatch(TURBOFAN, incremental, batchFeatureVector(TURBOFAN, samples, now, CTX)),
      ).toBeNull();
    }
  });
});
