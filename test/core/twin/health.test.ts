import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { GradedState, HealthPolicy } from '../../../lambdas/core/twin/health.ts';
import {
  defaultHealthPolicy,
  enterMaintenance,
  GRADED,
  InvalidHealthPolicyError,
  newHealthTrack,
  observeRisk,
  validateHealthPolicy,
} from '../../../lambdas/core/twin/health.ts';

const policy: HealthPolicy = {
  ...defaultHealthPolicy('cycle'),
  confirmSamples: 2,
  minDwell: 3,
  maintenanceSettle: 2,
};

function run(risks: number[], p: HealthPolicy = policy) {
  const track = newHealthTrack(0);
  const states = risks.map((risk, i) => {
    observeRisk(track, risk, i + 1, p);
    return track.state;
  });
  return { track, states };
}

describe('observeRisk', () => {
  it('escalates only after confirmSamples consecutive samples above the enter threshold', () => {
    const { states } = run([0.95, 0.1, 0.95, 0.95]);
    expect(states).toEqual(['NORMAL', 'NORMAL', 'NORMAL', 'CRITICAL']);
  });

  it('escalates to the lowest state all confirming samples support', () => {
    const { states } = run([0.95, 0.75, 0.95, 0.95]);
    expect(states).toEqual(['NORMAL', 'WARNING', 'WARNING', 'CRITICAL']);
  });

  it('holds a state while risk hovers between its exit and enter thresholds', () => {
    const { states } = run([0.75, 0.75, 0.65, 0.69, 0.61, 0.65, 0.62, 0.64, 0.66]);
    expect(states.slice(1)).toEqual(Array(8).fill('WARNING'));
  });

  it('de-escalates only after risk stays below exit for minDwell clock units', () => {
    const { states } = run([0.75, 0.75, 0.1, 0.1, 0.1, 0.1]);
    // WARNING entered at t=2; below exit since t=3; minDwell 3 → leaves at t=6.
    expect(states).toEqual(['NORMAL', 'WARNING', 'WARNING', 'WARNING', 'WARNING', 'NORMAL']);
  });

  it('restarts the dwell clock when risk climbs back above exit', () => {
    const { states } = run([0.75, 0.75, 0.1, 0.1, 0.65, 0.1, 0.1, 0.1, 0.1]);
    expect(states.indexOf('NORMAL', 2)).toBe(8);
  });

  it('steps down to the state the risk still supports, not straight to NORMAL', () => {
    const { states } = run([0.95, 0.95, 0.45, 0.45, 0.45, 0.45]);
    expect(states.at(-1)).toBe('WATCH');
  });

  it('keeps the state within the hysteresis band for any risk sequence', () => {
    const fast: HealthPolicy = { ...policy, confirmSamples: 1, minDwell: 0 };
    const rank = (s: string) => GRADED.indexOf(s as GradedState);
    const level = (r: number, thresholds: HealthPolicy['enter']) =>
      r >= thresholds.CRITICAL ? 3 : r >= thresholds.WARNING ? 2 : r >= thresholds.WATCH ? 1 : 0;
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 60 }),
        (risks) => {
          const track = newHealthTrack(0);
          risks.forEach((r, i) => {
            observeRisk(track, r, i + 1, fast);
            expect(rank(track.state)).toBeGreaterThanOrEqual(level(r, fast.enter));
            expect(rank(track.state)).toBeLessThanOrEqual(level(r, fast.exit));
          });
        },
      ),
    );
  });
});

describe('enterMaintenance', () => {
  it('suppresses risk during the settle period, then returns to NORMAL and resumes', () => {
    const track = newHealthTrack(0);
    observeRisk(track, 0.95, 1, policy);
    observeRisk(track, 0.95, 2, policy);
    expect(track.state).toBe('CRITICAL');
    expect(enterMaintenance(track, 3, policy)).toEqual({ from: 'CRITICAL', to: 'MAINTENANCE', at: 3 });
    expect(observeRisk(track, 0.95, 4, policy)).toEqual([]);
    expect(track.state).toBe('MAINTENANCE');
    const changes = observeRisk(track, 0.2, 5, policy);
    expect(changes).toEqual([{ from: 'MAINTENANCE', to: 'NORMAL', at: 5 }]);
  });

  it('is idempotent for a repeated event', () => {
    const track = newHealthTrack(0);
    enterMaintenance(track, 3, policy);
    expect(enterMaintenance(track, 3, policy)).toBeNull();
    expect(track.settleUntil).toBe(5);
  });
});

describe('validateHealthPolicy', () => {
  it('accepts the defaults', () => {
    expect(validateHealthPolicy(defaultHealthPolicy('time'))).toBeDefined();
  });

  it('rejects exit above enter, unordered thresholds and a zero confirmation count', () => {
    const base = defaultHealthPolicy('time');
    expect(() => validateHealthPolicy({ ...base, exit: { ...base.exit, WARNING: 0.8 } })).toThrow(
      /exit.WARNING=0.8 must be in \[0, enter.WARNING=0.7\]/,
    );
    expect(() =>
      validateHealthPolicy({
        ...base,
        enter: { ...base.enter, WARNING: 0.4 },
        exit: { ...base.exit, WARNING: 0.3 },
      }),
    ).toThrow(InvalidHealthPolicyError);
    expect(() => validateHealthPolicy({ ...base, confirmSamples: 0 })).toThrow(/confirmSamples/);
  });
});
