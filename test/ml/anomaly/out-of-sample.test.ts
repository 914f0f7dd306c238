/**
 * The out-of-sample evaluation of the anomaly score (docs/anomaly.md): its splits never let a test
 * engine, an hour after the cut or an evaluation seed into a fit, and the shipped configurations keep
 * the figures measured on data they never saw (margins as in evaluate.test.ts: how much worse than
 * measured before we call it a regression).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CHOSEN,
  loadAzure,
  SIM_FAULT_SEEDS,
  SIM_FIT_SEEDS,
  SIM_HEALTHY_SEEDS,
} from '../../../ml/anomaly/evaluate.ts';
import {
  azureSplit,
  cmapssSplit,
  evaluateAzureOutOfSample,
  evaluateCmapssOutOfSample,
  OutOfSampleSplitError,
  parseDay,
} from '../../../ml/anomaly/out-of-sample.ts';

const DAY = 86_400_000;
const azure = loadAzure();
const cmapss = cmapssSplit();

describe('out-of-sample splits', () => {
  it('fits C-MAPSS on training engines only and measures on test engines only', () => {
    expect(cmapss.fit.length).toBeGreaterThan(0);
    expect(cmapss.fit.every((r) => r.file === 'train' && r.cycle <= 30)).toBe(true);
    expect(cmapss.evaluate.every((r) => r.file === 'test')).toBe(true);
    const fitted = new Set(cmapss.fit.map((r) => `${r.file}:${r.unit}`));
    expect(cmapss.evaluate.filter((r) => fitted.has(`${r.file}:${r.unit}`))).toEqual([]);
    // The test engines' true RUL comes from RUL_FD001.txt: their last cycle is not a failure.
    expect(Math.min(...cmapss.evaluate.map((r) => r.rul))).toBeGreaterThan(0);
  });

  it('never fits Azure on an hour at or after the cut, nor on a label that needs one', () => {
    const first = azure.hours[0]!.ts;
    const last = azure.hours.at(-1)!.ts;
    fc.assert(
      fc.property(fc.integer({ min: 8, max: Math.floor((last - first) / DAY) - 1 }), (offset) => {
        // Arrange: any cut date inside the slice
        const trainUntil = new Date(first + offset * DAY).toISOString().slice(0, 10);

        // Act
        const split = azureSplit(azure, trainUntil);
        // The same split with every failure after the cut removed: what was known at the cut.
        const known = { ...azure, failures: azure.failures.filter((f) => f.ts < split.cut) };
        const blind = azureSplit(known, trainUntil);

        // Assert
        expect(split.fit.length).toBeGreaterThan(0);
        expect(split.evaluate.length).toBeGreaterThan(0);
        const fitEnd = Math.max(...split.fit.map((i) => azure.hours[i]!.ts));
        const evalStart = Math.min(...split.evaluate.map((i) => azure.hours[i]!.ts));
        expect(fitEnd + 7 * DAY).toBeLessThan(split.cut);
        expect(evalStart).toBeGreaterThanOrEqual(split.cut);
        const fitted = new Set(split.fit);
        expect(split.evaluate.some((i) => fitted.has(i))).toBe(false);
        expect(blind.fit).toEqual(split.fit);
      }),
      { numRuns: 6 },
    );
  });

  it('fits the simulated pump on seeds it never measures on', () => {
    const fit = new Set(SIM_FIT_SEEDS);
    expect([...SIM_HEALTHY_SEEDS, ...SIM_FAULT_SEEDS].filter((s) => fit.has(s))).toEqual([]);
    expect(new Set(SIM_FAULT_SEEDS).size).toBe(SIM_FAULT_SEEDS.length);
  });

  it.each([
    ['2015-02-30', /expected a date as YYYY-MM-DD/],
    ['28.02.2015', /expected a date as YYYY-MM-DD/],
  ])('refuses the date %s with a named error', (day, message) => {
    expect(() => parseDay(day)).toThrow(OutOfSampleSplitError);
    expect(() => parseDay(day)).toThrow(message);
  });

  it.each(['2014-12-31', '2015-01-03', '2015-04-01'])('refuses a cut (%s) that leaves no fitting or no evaluation data', (day) => {
    expect(() => azureSplit(azure, day)).toThrow(OutOfSampleSplitError);
  });
});

describe('out-of-sample figures (chosen method)', () => {
  it('separates FD001 test engines near failure from healthy ones', () => {
    // Measured: AUC 0.964, FPR 0.010 on RUL > 125, 72 % of RUL ≤ 30 cycles ≥ 0.5.
    const r = evaluateCmapssOutOfSample(CHOSEN.turbofan, cmapss);
    expect(r.testEngines).toBe(100);
    expect(r.auc).toBeGreaterThan(0.93);
    expect(r.fprHealthy).toBeLessThan(0.03);
  });

  it('detects the 24 h before March failures with a baseline fitted up to February', () => {
    // Measured: AUC 0.944 / 0.976 / 0.990 / 0.983, healthy FPR 0.008.
    const r = evaluateAzureOutOfSample(CHOSEN['industrial-machine'], azure, '2015-02-28');
    expect(r.healthyFpr).toBeLessThan(0.02);
    for (const c of r.components) {
      expect(c.failures, c.component).toBeGreaterThan(0);
      expect(c.auc, c.component).toBeGreaterThan(0.88);
    }
  });
});
