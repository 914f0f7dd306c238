import { describe, expect, it } from 'vitest';
import { ASSET_MODELS, eventCodes, INDUSTRIAL_MACHINE } from '../../../lambdas/core/catalog/index.ts';
import { HOUR_MS, loadAzure } from '../../../ml/datasets/azure.ts';

describe('asset model catalog: event codes', () => {
  it.each(ASSET_MODELS.map((m) => [m.id, m] as const))('%s names codes that can be features, on its own components', (_, model) => {
    // Act
    const codes = eventCodes(model);
    // Assert
    expect(codes.length).toBeGreaterThan(0);
    for (const code of codes) {
      expect(code).toMatch(/^[A-Za-z][A-Za-z0-9_]{0,63}$/);
      expect(['other', 'total']).not.toContain(code);
      const component = model.events![code]!.component;
      if (component !== undefined) expect(Object.keys(model.components)).toContain(component);
    }
  });

  it('maps each Azure PdM error to the component whose failures it precedes by 24 hours', () => {
    // Arrange: how often each error is logged exactly 24 h before a failure of each component.
    const data = loadAzure('../shared/data/azure_pdm');
    const pairs = new Map<string, number>();
    const failures = new Map<string, string[]>();
    for (const f of data.failures) {
      const key = `${f.machineId}|${f.ts}`;
      failures.set(key, [...(failures.get(key) ?? []), f.what]);
    }
    for (const e of data.errors) {
      for (const component of failures.get(`${e.machineId}|${e.ts + 24 * HOUR_MS}`) ?? []) {
        const key = `${e.what}>${component}`;
        pairs.set(key, (pairs.get(key) ?? 0) + 1);
      }
    }
    // Act: the component each error precedes most often.
    const strongest = new Map<string, string>();
    for (const code of eventCodes(INDUSTRIAL_MACHINE)) {
      const best = Object.keys(INDUSTRIAL_MACHINE.components)
        .map((c) => [c, pairs.get(`${code}>${c}`) ?? 0] as const)
        .sort((a, b) => b[1] - a[1]);
      // The mapping is only meaningful when one component clearly dominates.
      expect(best[0]![1], code).toBeGreaterThan(5 * best[1]![1]);
      strongest.set(code, best[0]![0]);
    }
    // Assert
    for (const code of eventCodes(INDUSTRIAL_MACHINE)) {
      expect(INDUSTRIAL_MACHINE.events![code]!.component, code).toBe(strongest.get(code));
    }
    expect(pairs.get('error1>comp1')).toBe(183);
    expect(pairs.get('error4>comp3')).toBe(128);
  });
});
