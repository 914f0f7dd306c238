import { describe, expect, it } from 'vitest';
import { AI4I_LEAKING_COLUMNS, loadAi4i } from '../../../ml/datasets/ai4i.ts';
import {
  ai4iDesign,
  evaluateAi4i,
  stratifiedSplit,
  XgboostUnavailableError,
} from '../../../ml/evaluate/ai4i.ts';
import { scaled } from '../../support/env.ts';

const FILE = '../shared/data/ai4i2020/ai4i2020.csv';

describe('stratifiedSplit', () => {
  it('puts every row in exactly one part and keeps the class ratio', () => {
    const y = Array.from({ length: 1000 }, (_, i) => (i % 25 === 0 ? 1 : 0));
    const s = stratifiedSplit(y, 3);
    const all = [...s.train, ...s.valid, ...s.test].sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    const pos = (idx: Uint32Array) => [...idx].filter((i) => y[i] === 1).length;
    expect(pos(s.test)).toBe(8); // 20% of 40 positives
    expect(pos(s.valid)).toBe(6); // 20% of the remaining 32, rounded
    expect(s.test.length).toBe(200);
  });
});

describe('evaluateAi4i', () => {
  it('keeps the leaking columns out of the model input', () => {
    const { rows } = loadAi4i(FILE);
    const { names } = ai4iDesign(rows);
    const lower = names.map((n) => n.toLowerCase());
    for (const c of AI4I_LEAKING_COLUMNS) expect(lower).not.toContain(c.toLowerCase());
    expect(names).toEqual([
      'type',
      'air_temp_k',
      'process_temp_k',
      'rpm',
      'torque_nm',
      'tool_wear_min',
      'delta_t_k',
      'power_w',
      'wear_torque',
    ]);
  });

  it('reaches the published leakage-free range', () => {
    // The comparison with xgboost and scikit-learn on the same rows is test/parity/ai4i.test.ts.
    const r = evaluateAi4i({ file: FILE, seed: 1, seeds: 1, xgboost: false });

    expect(r.rows).toBe(10_000);
    expect(r.positives).toBe(339);
    // Measured 0.940 on seed 1; the margin covers trainer changes that do not change quality.
    expect(r.prAuc).toBeGreaterThanOrEqual(0.92);
    // The data README's realistic band for a leakage-free model: ROC-AUC 0.97–0.99, F1 ≈ 0.85–0.90.
    expect(r.rocAuc).toBeGreaterThanOrEqual(0.97);
    expect(r.f1).toBeGreaterThanOrEqual(0.75);
    expect(r.xgboost).toBeFalsy();
  });

  it('fails with an apt hint when the baseline interpreter lacks xgboost', () => {
    const run = () => evaluateAi4i({ file: FILE, python: '/nonexistent/python3' });
    expect(run).toThrow(XgboostUnavailableError);
    expect(run).toThrow(/apt-get install -y python3-xgboost/);
  }, scaled(30_000));
});
