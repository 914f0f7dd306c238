import { describe, expect, it } from 'vitest';
import { DEFAULT_BASELINES } from '../../../lambdas/core/anomaly/index.ts';
import { flatlineThreshold, INDUSTRIAL_MACHINE } from '../../../lambdas/core/catalog/index.ts';
import type { AssetInfo } from '../../../lambdas/core/catalog/types.ts';
import { prepareBatch, type TwinInput } from '../../../lambdas/core/twin/twin.ts';

const HOUR = 3_600_000;
const T0 = Date.UTC(2015, 0, 5, 6);
const MACHINE: AssetInfo = { assetId: 'machine-1', siteId: 'azure-pdm', modelId: 'industrial-machine' };

function sample(seq: number): TwinInput {
  const ts = T0 + seq * HOUR;
  // `volt` never changes (a stuck sensor); the others move every hour.
  const readings = { volt: 170, rotate: 450 + seq, pressure: 100 + (seq % 7), vibration: 40 + (seq % 5) };
  return { kind: 'sample', sample: { ...MACHINE, ts, seq, readings, receivedAt: ts } };
}

describe('twin: screening', () => {
  it('keeps a sample whose flatlined reading was removed and counts it where it ends', () => {
    // Arrange: enough samples that `volt` passes its flatline limit while the other sensors stay valid.
    const limit = flatlineThreshold(INDUSTRIAL_MACHINE.sensors.volt!)!;
    const inputs = Array.from({ length: limit + 10 }, (_, i) => sample(i + 1));
    // Act
    const prepared = prepareBatch(undefined, inputs, {
      asset: MACHINE,
      model: INDUSTRIAL_MACHINE,
      baseline: DEFAULT_BASELINES[INDUSTRIAL_MACHINE.id]!,
    });
    // Assert: every clean sample becomes a feature row; none vanishes between screening and features.
    expect(prepared.screenCounts.samples.clean).toBe(inputs.length);
    expect(prepared.rows).toHaveLength(inputs.length);
    expect(prepared.quarantine.filter((q) => q.reason === 'flatline').length).toBeGreaterThan(0);
    expect(prepared.twin.samples).toBe(inputs.length);
    expect(prepared.twin.latest?.readings).not.toHaveProperty('volt');
    expect(prepared.twin.latest?.seq).toBe(inputs.length);
  });
});

describe('twin: keys named by input', () => {
  it('ignores maintenance naming an inherited property instead of treating it as a component', () => {
    // Arrange: cleaning refuses unknown components; the twin must not rely on it for its own safety.
    const ctx = { asset: MACHINE, model: INDUSTRIAL_MACHINE, baseline: DEFAULT_BASELINES[INDUSTRIAL_MACHINE.id]! };
    const start = prepareBatch(undefined, [sample(1)], ctx).twin;
    for (const component of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      const maintenance: TwinInput = {
        kind: 'maintenance',
        event: { ...MACHINE, ts: T0 + 2 * HOUR, kind: 'replacement', component, receivedAt: T0 + 2 * HOUR },
      };
      // Act
      const prepared = prepareBatch(start, [maintenance, sample(2)], ctx);
      // Assert
      expect(prepared.rows).toHaveLength(1);
      expect(Object.keys(prepared.twin.components).sort()).toEqual(Object.keys(INDUSTRIAL_MACHINE.components).sort());
    }
  });
});
