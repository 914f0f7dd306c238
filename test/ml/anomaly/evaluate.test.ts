/**
 * Runs the evaluation of the chosen method on the real Azure PdM slice and C-MAPSS FD001 and on the
 * simulated pump. The data and the fit are deterministic, so the margins below are not for sampling
 * noise: they are how much worse than measured (docs/anomaly.md) the detector may get before we call
 * it a regression, and each stays far above chance (AUC 0.5, top-1 0.25 for four sensors).
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_BASELINES } from '../../../lambdas/core/anomaly/index.ts';
import { loadCmapss } from '../../../ml/anomaly/data.ts';
import {
  azureSensorShifts,
  CHOSEN,
  evaluateAzure,
  evaluateCmapss,
  evaluateSimulated,
  loadAzure,
} from '../../../ml/anomaly/evaluate.ts';
import { fitDefaults } from '../../../ml/anomaly/fit-defaults.ts';

const azure = loadAzure();
const cmapss = loadCmapss();

describe('anomaly evaluation (chosen method)', () => {
  it('detects the 24 h before Azure failures of every component, naming the catalog sensor', () => {
    // Measured: AUC 0.93–0.99, top-1 = catalog sensor 0.89–1.00, healthy FPR 0.009.
    const r = evaluateAzure(CHOSEN['industrial-machine'], azure);
    expect(r.healthyFpr).toBeLessThan(0.02);
    for (const c of r.components) {
      expect(c.auc, c.component).toBeGreaterThan(0.85);
      expect(c.top1Catalog, c.component).toBeGreaterThan(0.75);
    }
  });

  it('finds the catalog component → sensor mapping in the raw Azure data', () => {
    // Measured: the catalog sensor shifts by 1.3–2.5 robust SDs, every other sensor by ≤ 0.54.
    for (const { component, shifts } of azureSensorShifts(azure)) {
      const [top] = Object.entries(shifts).sort((a, b) => Math.abs(b[1]) - Math.abs(a[1]));
      expect(top![0], component).toBe(
        { comp1: 'volt', comp2: 'rotate', comp3: 'pressure', comp4: 'vibration' }[component],
      );
    }
  });

  it('rises toward failure on C-MAPSS FD001', () => {
    // Measured: AUC 0.990, mean score 0.13 (first 50) → 0.86 (last 20), per-engine Spearman 0.70.
    const r = evaluateCmapss(CHOSEN.turbofan, cmapss);
    expect(r.auc).toBeGreaterThan(0.9);
    expect(r.meanFirst50).toBeLessThan(0.25);
    expect(r.meanLast20).toBeGreaterThan(0.6);
    expect(r.spearmanPerEngine).toBeGreaterThan(0.5);
    expect(r.fprFirst50).toBeLessThan(0.03);
  });

  it('detects injected pump faults and names the faulted sensor', () => {
    // Measured (devices/physics.ts pump, daily load): AUC 0.74 (variance) to 1.00 (spike), top-1 ≥ 0.96,
    // healthy FPR 0.010.
    const r = evaluateSimulated(CHOSEN['centrifugal-pump']);
    expect(r.healthyFpr).toBeLessThan(0.03);
    for (const f of r.faults) {
      expect(f.auc, f.fault).toBeGreaterThan(0.65);
      expect(f.top1, f.fault).toBeGreaterThan(0.85);
    }
  });

  it('regenerates the shipped baselines exactly', () => {
    const refit = Object.fromEntries(fitDefaults().map((b) => [b.modelId, JSON.parse(JSON.stringify(b))]));
    expect(refit).toEqual(JSON.parse(JSON.stringify(DEFAULT_BASELINES)));
  });
});
