import { describe, expect, it } from 'vitest';
import { buildAzureDesign, loadAzure } from '../../../ml/datasets/azure.ts';
import { FAILURE_HORIZON_MS, splitParts, TrainWindowError } from '../../../ml/train/industrial-machine.ts';
import { DEFAULT_AZURE_DIR } from '../../../local/replay/azure.ts';
import { heldOutBaseline, parseTrainUntil, replayAzureHeldOut, TrainUntilError } from '../../../local/replay/held-out.ts';

const data = loadAzure(DEFAULT_AZURE_DIR);

describe('held-out replay', () => {
  it('parses a date or an ISO time and refuses anything else with a named error', () => {
    expect(parseTrainUntil('2015-02-28')).toBe(Date.UTC(2015, 1, 28));
    expect(parseTrainUntil('2015-02-28T12:00:00Z')).toBe(Date.UTC(2015, 1, 28, 12));
    expect(() => parseTrainUntil('last tuesday')).toThrow(TrainUntilError);
  });

  it('refuses a cut without a month of data before it or a day after it', async () => {
    await expect(replayAzureHeldOut({ trainUntil: Date.UTC(2015, 0, 10) })).rejects.toThrow(TrainUntilError);
    await expect(replayAzureHeldOut({ trainUntil: Date.UTC(2015, 3, 5) })).rejects.toThrow(TrainUntilError);
  });

  it('trains, calibrates and thresholds on rows whose labels close before the cut, for any cut', () => {
    const d = buildAzureDesign(data, { machines: [1, 2, 3] });
    for (const cut of [Date.UTC(2015, 1, 5), Date.UTC(2015, 1, 28), Date.UTC(2015, 2, 20)]) {
      const parts = splitParts(d, data, cut);
      const rows = [...parts.all, ...parts.fit, ...parts.valid, ...parts.folds.flatMap((f) => [...f.fit, ...f.valid])];
      expect(rows.length).toBeGreaterThan(0);
      for (const r of rows) expect(d.t[r]!).toBeLessThanOrEqual(cut - FAILURE_HORIZON_MS);
      // Each fold is scored by a model fitted only on hours a label window before it.
      for (const fold of parts.folds) {
        const firstValid = Math.min(...[...fold.valid].map((r) => d.t[r]!));
        for (const r of fold.fit) expect(d.t[r]!).toBeLessThanOrEqual(firstValid - FAILURE_HORIZON_MS);
      }
    }
    expect(() => splitParts(d, data, Date.UTC(2015, 0, 20))).toThrow(TrainWindowError);
  });

  it('fits the anomaly baseline on the same hours whether or not the data after the cut exists', () => {
    const cut = Date.UTC(2015, 1, 28);
    const before = {
      ...data,
      telemetry: data.telemetry.filter((r) => r.ts < cut),
      failures: data.failures.filter((f) => f.ts <= cut),
    };

    const full = heldOutBaseline(data, cut, [1, 2, 3, 4, 5]);
    const truncated = heldOutBaseline(before, cut, [1, 2, 3, 4, 5]);

    expect(full.hours).toBeGreaterThan(5 * 20 * 24);
    expect(full.hours).toBe(truncated.hours);
    expect(full.baseline.params).toEqual(truncated.baseline.params);
  });
});
