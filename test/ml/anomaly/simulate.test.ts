import { describe, expect, it } from 'vitest';
import { pumpReadings } from '../../../devices/physics.ts';
import { Rng } from '../../../devices/rng.ts';
import { FAULT_KINDS, PUMP_NOISE, PUMP_SENSORS, simulatePump } from '../../../ml/anomaly/simulate.ts';

const sd = (xs: readonly number[]) => {
  const m = xs.reduce((a, x) => a + x, 0) / xs.length;
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
};

const corr = (a: readonly number[], b: readonly number[]) => {
  const ma = a.reduce((s, x) => s + x, 0) / a.length;
  const mb = b.reduce((s, x) => s + x, 0) / b.length;
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += (a[i]! - ma) * (b[i]! - mb);
    aa += (a[i]! - ma) ** 2;
    bb += (b[i]! - mb) ** 2;
  }
  return ab / Math.sqrt(aa * bb);
};

describe('simulatePump', () => {
  it('sizes faults in the noise SD that pumpReadings actually produces at fixed load', () => {
    // PUMP_NOISE is derived analytically from the physics' noise terms; sampling is an independent check.
    const rng = new Rng(42);
    const draws = Array.from({ length: 20_000 }, () => pumpReadings(0.7, {}, rng));
    for (const s of PUMP_SENSORS) {
      // The SD of an SD estimate from 20,000 draws is ≈ 0.5 %; 3 % leaves room for the half-normal.
      expect(Math.abs(sd(draws.map((r) => r[s]!)) / PUMP_NOISE[s] - 1), s).toBeLessThan(0.03);
    }
  });

  it('leaves the samples before the onset identical to the fault-free series', () => {
    const healthy = simulatePump(5, 300);
    for (const kind of FAULT_KINDS) {
      const faulty = simulatePump(5, 300, { kind, sensor: 'flow', start: 150 });
      expect(faulty.rows.slice(0, 150), kind).toEqual(healthy.rows.slice(0, 150));
      expect(faulty.faulty.slice(0, 150).some(Boolean), kind).toBe(false);
      expect(faulty.faulty.slice(150).some(Boolean), kind).toBe(true);
    }
    expect(healthy.faulty.some(Boolean)).toBe(false);
  });

  it('follows the daily load: flow, pressure and current move with it, and the pressure falls as flow rises', () => {
    const { rows } = simulatePump(9, 1440);
    const flow = rows.map((r) => r.flow);
    // Load spans about 0.5–0.9 over a day: flow ≈ 250·load, i.e. roughly 125–225 m³/h.
    expect(Math.min(...flow)).toBeGreaterThan(100);
    expect(Math.max(...flow)).toBeLessThan(250);
    expect(
      corr(
        flow,
        rows.map((r) => r.current),
      ),
    ).toBeGreaterThan(0.9);
    // Pump curve: head drops toward run-out.
    expect(
      corr(
        flow,
        rows.map((r) => r.pressure),
      ),
    ).toBeLessThan(-0.5);
  });

  it('decouples the faulted sensor from the shared load', () => {
    // The rogue load has its own random daily phase, so on a single series it may happen to sit near the
    // real one; independence shows as a correlation near 0 on average over series.
    const r = (xs: ReadonlyArray<Record<string, number>>) =>
      corr(
        xs.map((x) => x.flow!),
        xs.map((x) => x.current!),
      );
    const before: number[] = [];
    const after: number[] = [];
    for (let seed = 1; seed <= 30; seed++) {
      const { rows } = simulatePump(seed, 600, { kind: 'decouple', sensor: 'current', start: 300 });
      before.push(r(rows.slice(0, 300)));
      after.push(r(rows.slice(300)));
    }
    expect(Math.min(...before)).toBeGreaterThan(0.9);
    // Mean of cos(uniform phase) is 0 with SD ≈ 0.7/sqrt(30) ≈ 0.13 over 30 series.
    expect(Math.abs(after.reduce((a, x) => a + x, 0) / after.length)).toBeLessThan(0.4);
  });
});
