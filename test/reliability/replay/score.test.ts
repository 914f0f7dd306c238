import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type ScoredAlert, type ScoredFailure, ScoreInputError, scoreReplay } from '../../../local/replay/score.ts';

const H = 3_600_000;
const T0 = Date.UTC(2015, 0, 10);
let n = 0;
const alert = (assetId: string, hoursFromT0: number, over: Partial<ScoredAlert> = {}): ScoredAlert => ({
  alertId: `a${n++}`,
  assetId,
  scope: 'component',
  component: 'comp1',
  severity: 'warning',
  at: new Date(T0 + hoursFromT0 * H).toISOString(),
  ...over,
});
const failure = (assetId: string, component: string, hoursFromT0: number): ScoredFailure => ({
  assetId,
  component,
  ts: T0 + hoursFromT0 * H,
});

describe('scoreReplay', () => {
  it('counts a failure as preceded strictly only by a component alert of the same component within the horizon', () => {
    // Arrange: m1/comp1 fails at +100 h; m2/comp2 at +100 h; m3/comp1 at +100 h.
    const failures = [failure('m1', 'comp1', 100), failure('m2', 'comp2', 100), failure('m3', 'comp1', 100)];
    const alerts = [
      alert('m1', 40), // 60 h before: inside 72 h
      alert('m1', 90, { severity: 'critical' }),
      alert('m2', 90, { component: 'comp1' }), // wrong component: loose only
      alert('m3', 27), // 73 h before: outside
      alert('m3', 100), // at the failure hour: not before it
      alert('m3', 95, { severity: 'info' }), // info never counts
    ];

    // Act
    const s = scoreReplay(alerts, failures);

    // Assert
    expect(s.failures).toBe(3);
    expect(s.strict.preceded).toBe(1);
    expect(s.loose.preceded).toBe(2);
    expect(s.strict.leadTime).toEqual({ n: 1, medianH: 60, minH: 60, maxH: 60 });
    expect(s.loose.leadTime).toEqual({ n: 2, medianH: 35, minH: 10, maxH: 60 });
    expect(s.byComponent.comp1).toMatchObject({ failures: 2, precededStrict: 1, precededLoose: 1 });
    expect(s.byComponent.comp2).toMatchObject({ failures: 1, precededStrict: 0, precededLoose: 1 });
    expect(s.perFailure.find((f) => f.assetId === 'm2')).toMatchObject({ leadStrictH: null, leadLooseH: 10 });
  });

  it('uses an asset-scoped alert for the loose count only', () => {
    const s = scoreReplay([alert('m1', 50, { scope: 'asset', component: undefined })], [failure('m1', 'comp4', 60)]);

    expect(s.strict.preceded).toBe(0);
    expect(s.loose.preceded).toBe(1);
    expect(s.loose.leadTime.medianH).toBe(10);
    expect(s.strict.alerts).toBe(0);
    expect(s.loose.alerts).toBe(1);
    expect(s.loose.falseAlerts).toBe(0);
  });

  it('judges an alert false when no failure of its machine (and component, strictly) follows within the horizon', () => {
    // Arrange
    const failures = [failure('m1', 'comp2', 100), failure('m1', 'comp1', 400)];
    const alerts = [
      alert('m1', 90, { component: 'comp2' }), // true both ways
      alert('m1', 95, { component: 'comp3' }), // strict false, loose true
      alert('m1', 200), // both false: next failure 200 h later
      alert('m1', 100, { component: 'comp2' }), // at the failure itself: nothing follows within (at, at + 72 h]
      alert('m2', 10, { scope: 'asset', component: undefined }), // m2 never fails
    ];

    // Act
    const s = scoreReplay(alerts, failures);

    // Assert
    expect(s.strict).toMatchObject({ alerts: 4, falseAlerts: 3 });
    expect(s.loose).toMatchObject({ alerts: 5, falseAlerts: 3 });
    expect(s.byComponent.comp3).toMatchObject({ alertsStrict: 1, falseStrict: 1, failures: 0 });
  });

  it('counts a repeated alert id once', () => {
    const a = alert('m1', 10, { component: 'comp9' });

    const s = scoreReplay([a, a, { ...a }], []);

    expect(s.loose.alerts).toBe(1);
    expect(s.loose.falseAlerts).toBe(1);
  });

  it('scores only failures and alerts inside [from, to), but lets a later failure make an alert true', () => {
    const failures = [failure('m1', 'comp1', 10), failure('m1', 'comp1', 130)];
    const alerts = [alert('m1', 5), alert('m1', 100)];

    const s = scoreReplay(alerts, failures, { from: T0 + 50 * H, to: T0 + 120 * H });

    expect(s.failures).toBe(0);
    expect(s.strict).toMatchObject({ alerts: 1, falseAlerts: 0 });
  });

  it('honours a custom horizon', () => {
    const s = scoreReplay([alert('m1', 70)], [failure('m1', 'comp1', 100)], { horizonMs: 24 * H });

    expect(s.strict.preceded).toBe(0);
    expect(s.strict.falseAlerts).toBe(1);
    expect(s.horizonH).toBe(24);
  });

  it('rejects an unreadable alert time and a non-positive horizon with a named error', () => {
    expect(() => scoreReplay([alert('m1', 0, { at: 'yesterday' })], [])).toThrow(ScoreInputError);
    expect(() => scoreReplay([], [], { horizonMs: 0 })).toThrow(ScoreInputError);
  });

  it('agrees with a brute-force definition on random alerts and failures', () => {
    const assets = ['m1', 'm2'];
    const comps = ['comp1', 'comp2'];
    const arbAlert = fc.record({
      asset: fc.constantFrom(...assets),
      comp: fc.constantFrom(...comps),
      scope: fc.constantFrom('asset' as const, 'component' as const),
      severity: fc.constantFrom('info' as const, 'warning' as const, 'critical' as const),
      h: fc.integer({ min: 0, max: 400 }),
    });
    const arbFailure = fc.record({ asset: fc.constantFrom(...assets), comp: fc.constantFrom(...comps), h: fc.integer({ min: 0, max: 400 }) });
    fc.assert(
      fc.property(fc.array(arbAlert, { maxLength: 30 }), fc.array(arbFailure, { maxLength: 10 }), (rawA, rawF) => {
        const alerts = rawA.map((a, i) => ({
          alertId: `x${i}`,
          assetId: a.asset,
          scope: a.scope,
          ...(a.scope === 'component' ? { component: a.comp } : {}),
          severity: a.severity,
          at: new Date(T0 + a.h * H).toISOString(),
        }));
        const failures = rawF.map((f) => failure(f.asset, f.comp, f.h));
        const s = scoreReplay(alerts, failures);

        // Brute force, in whole hours.
        const loud = rawA.filter((a) => a.severity !== 'info');
        const strictPreceded = rawF.filter((f) =>
          loud.some((a) => a.scope === 'component' && a.asset === f.asset && a.comp === f.comp && a.h >= f.h - 72 && a.h < f.h),
        ).length;
        const loosePreceded = rawF.filter((f) => loud.some((a) => a.asset === f.asset && a.h >= f.h - 72 && a.h < f.h)).length;
        const looseFalse = loud.filter((a) => !rawF.some((f) => f.asset === a.asset && f.h > a.h && f.h <= a.h + 72)).length;
        const strictFalse = loud.filter(
          (a) => a.scope === 'component' && !rawF.some((f) => f.asset === a.asset && f.comp === a.comp && f.h > a.h && f.h <= a.h + 72),
        ).length;
        expect(s.strict.preceded).toBe(strictPreceded);
        expect(s.loose.preceded).toBe(loosePreceded);
        expect(s.loose.falseAlerts).toBe(looseFalse);
        expect(s.strict.falseAlerts).toBe(strictFalse);
        expect(s.strict.preceded).toBeLessThanOrEqual(s.loose.preceded);
        for (const lt of [s.strict.leadTime, s.loose.leadTime]) {
          if (lt.n > 0) {
            expect(lt.minH!).toBeGreaterThan(0);
            expect(lt.maxH!).toBeLessThanOrEqual(72);
          }
        }
      }),
      { numRuns: 200 },
    );
  });
});
