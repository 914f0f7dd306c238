import { describe, expect, it } from 'vitest';
import { INDUSTRIAL_MACHINE } from '../../../lambdas/core/catalog/models.ts';
import { loadAzure, machineAsset, machineEvents } from '../../../ml/datasets/azure.ts';
import { evaluateAzure } from '../../../ml/evaluate/azure.ts';
import { replayFeatures } from '../../../ml/features/replay.ts';
import { scaled } from '../../support/env.ts';

const DIR = '../shared/data/azure_pdm';

describe('evaluateAzure', () => {
  it('builds features from past data only', () => {
    // Replaying a prefix of the history must give the same vectors as the full history for those rows.
    const data = loadAzure(DIR);
    const events = machineEvents(data, 1).slice(0, 800);
    const asset = machineAsset(data.machines[0], 1);
    const full = replayFeatures(INDUSTRIAL_MACHINE, asset, events).rows;
    const cut = 500;
    const prefix = replayFeatures(INDUSTRIAL_MACHINE, asset, events.slice(0, cut)).rows;
    expect(prefix.length).toBeGreaterThan(400);
    prefix.forEach((row, i) => {
      expect(Array.from(row.vector)).toEqual(Array.from(full[i]!.vector));
    });
  });

  it('beats the random baseline on the held-out month with product features only', () => {
    const r = evaluateAzure({ dataDir: DIR, errors: false, targets: ['comp2', 'any'] });
    expect(r.rows.test).toBe(20 * (31 * 24 + 6)); // March 1 00:00 → April 1 05:00, 20 machines
    expect(r.product.features).not.toContain('op_age_h');
    expect(r.product.features.some((f) => f.startsWith('error'))).toBe(false);
    for (const t of r.product.targets) {
      expect(t.testPositives).toBeGreaterThan(0);
      expect(t.f1).toBeGreaterThan(3 * t.random.f1);
      expect(t.prAuc).toBeGreaterThan(10 * (t.testPositives / t.testRows));
      expect(t.leadTime.failures).toBeGreaterThan(0);
      expect(t.leadTime.detected24h).toBeGreaterThan(0.5);
    }
  }, scaled(60_000));
});
