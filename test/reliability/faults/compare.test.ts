import { describe, expect, it } from 'vitest';
import type { TwinHealthChangedDetail } from '../../../lambdas/core/alerts/policy.ts';
import type { Twin } from '../../../lambdas/core/twin/twin.ts';
import { canonical, compareRuns } from './compare.ts';
import { faultDice, seeded } from './pipeline.ts';

const twin = (over: Partial<Twin>): Twin => ({ assetId: 'a', version: 1, lastSeq: 3, samples: 3, ...over }) as Twin;
const alert = (alertId: string) => ({ alertId }) as TwinHealthChangedDetail;
const run = (twins: Twin[], telemetry: string[], deliveries: TwinHealthChangedDetail[]) => ({
  twins: new Map(twins.map((t) => [t.assetId, t])),
  telemetry: new Set(telemetry),
  deliveries,
});

describe('compareRuns', () => {
  it('reports nothing for identical runs that differ only in twin version and key order', () => {
    const clean = run([twin({})], ['a:1', 'a:2', 'a:3'], [alert('x')]);
    const faulty = run([{ samples: 3, lastSeq: 3, version: 9, assetId: 'a' } as Twin], ['a:3', 'a:2', 'a:1'], [alert('x')]);
    expect(compareRuns(clean, faulty)).toMatchObject({ lostToTwins: 0, lostToTelemetry: 0, twinsDiffering: 0, alertsDuplicated: 0, alertSetEqual: true });
  });

  it('counts samples missing from twins and telemetry, differing twins, duplicate and missing alerts', () => {
    const clean = run([twin({})], ['a:1', 'a:2', 'a:3'], [alert('x'), alert('y')]);
    const faulty = run([twin({ lastSeq: 2, samples: 2 })], ['a:1'], [alert('x'), alert('x')]);
    const f = compareRuns(clean, faulty);
    // a:3 is past the faulty twin's lastSeq, and the twin applied one sample fewer.
    expect(f.lostToTwins).toBe(2);
    expect(f.lostToTelemetry).toBe(2);
    expect(f.twinsDiffering).toBe(1);
    expect(f.alertsDuplicated).toBe(1);
    expect(f.alertSetEqual).toBe(false);
  });

  it('ignores scoring provenance only in the provenance-blind count', () => {
    const clean = run([twin({ scores: { scoredBy: 'endpoint', risk: 0.5 } as unknown as Twin['scores'] })], [], []);
    const faulty = run([twin({ scores: { scoredBy: 'fallback', risk: 0.5 } as unknown as Twin['scores'] })], [], []);
    expect(compareRuns(clean, faulty)).toMatchObject({ twinsDiffering: 1, twinsDifferingIgnoringProvenance: 0 });
  });
});

describe('canonical', () => {
  it('serialises objects independently of key order', () => {
    expect(canonical({ b: 1, a: { d: 2, c: 3 } })).toBe(canonical({ a: { c: 3, d: 2 }, b: 1 }));
  });
});

describe('faultDice', () => {
  it('hits the first opportunity of each kind, never a zero rate, and about the given share after', () => {
    const hit = faultDice(seeded(1));
    expect(hit('k', 0.1)).toBe(true);
    expect(hit('z', 0)).toBe(false);
    let n = 0;
    for (let i = 0; i < 10_000; i++) if (hit('k', 0.1)) n += 1;
    expect(n).toBeGreaterThan(800);
    expect(n).toBeLessThan(1200);
  });
});
