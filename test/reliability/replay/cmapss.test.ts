import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import type { TwinHealthChangedDetail } from '../../../lambdas/core/alerts/policy.ts';
import type { HealthState } from '../../../lambdas/core/twin/health.ts';
import { cmapssReplayReport, parseHoldout } from '../../../local/replay/cmapss-cli.ts';
import {
  chooseHoldout,
  DEFAULT_HORIZON_CYCLES,
  isEscalation,
  replayCmapss,
  scoreCmapssAlerts,
} from '../../../local/replay/cmapss.ts';
import { ReplayInputError } from '../../../local/replay/run.ts';

const DATA = join(import.meta.dirname, '..', '..', '..', '..', 'shared', 'data', 'cmapss');

/** Last cycle per unit, read straight from the file rather than through the loader. */
function lastCycles(): Map<number, number> {
  const out = new Map<number, number>();
  for (const line of readFileSync(join(DATA, 'train_FD001.txt'), 'utf8').trim().split('\n')) {
    const [unit, cycle] = line.trim().split(/\s+/).map(Number);
    out.set(unit!, Math.max(out.get(unit!) ?? 0, cycle!));
  }
  return out;
}

function alert(unit: number, seq: number, from: HealthState, to: HealthState): TwinHealthChangedDetail {
  return { assetId: `cmapss-${unit}`, seq, from, to, alertId: `${unit}-${seq}-${to}` } as TwinHealthChangedDetail;
}

describe('chooseHoldout', () => {
  const units = Array.from({ length: 100 }, (_, i) => i + 1);

  it('draws the same seeded share for the same seed and a different one for another seed', () => {
    // Act
    const a = chooseHoldout(units, 0.1, 1);
    const b = chooseHoldout(units, 0.1, 1);
    const c = chooseHoldout(units, 0.1, 2);
    // Assert
    expect(a).toHaveLength(10);
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
  });

  it('refuses unknown engines, an empty list, a list of every engine and fractions outside (0, 1)', () => {
    expect(() => chooseHoldout(units, [101], 1)).toThrow(ReplayInputError);
    expect(() => chooseHoldout(units, [], 1)).toThrow(ReplayInputError);
    expect(() => chooseHoldout(units, units, 1)).toThrow(ReplayInputError);
    expect(() => chooseHoldout(units, 1.5, 1)).toThrow(ReplayInputError);
    expect(chooseHoldout(units, [9, 3, 3], 1)).toEqual([3, 9]);
  });
});

describe('parseHoldout', () => {
  it('reads engine ids or a fraction and names the expected form otherwise', () => {
    expect(parseHoldout('3,17, 42')).toEqual([3, 17, 42]);
    expect(parseHoldout('0.25')).toBe(0.25);
    expect(() => parseHoldout('a,b')).toThrow(InvalidArgumentError);
    expect(() => parseHoldout('1.5')).toThrow(InvalidArgumentError);
  });
});

describe('scoreCmapssAlerts', () => {
  it('counts escalations within the horizon as warnings with their lead and earlier ones as false alerts', () => {
    // Arrange: engine 1 ends at cycle 200, engine 2 at 150, engine 3 at 180; horizon 50 cycles.
    const alerts = [
      alert(1, 100, 'NORMAL', 'WARNING'), // 100 before the end: false
      alert(1, 120, 'WARNING', 'NORMAL'), // not an escalation
      alert(1, 160, 'NORMAL', 'WARNING'), // lead 40
      alert(1, 190, 'WARNING', 'CRITICAL'), // lead 10
      alert(2, 149, 'WATCH', 'CRITICAL'), // lead 1
      alert(2, 140, 'CRITICAL', 'WARNING'), // de-escalation: not counted
      alert(3, 100, 'NORMAL', 'WATCH'), // WATCH is below WARNING
    ];
    const eol = new Map([
      [1, 200],
      [2, 150],
      [3, 180],
    ]);
    // Act
    const [e1, e2, e3] = scoreCmapssAlerts(alerts, eol, 50);
    // Assert
    expect(e1).toMatchObject({ unit: 1, alerts: 3, preceded: true, leadCycles: 40, falseAlerts: 1, firstAlertCycle: 100 });
    expect(e2).toMatchObject({ unit: 2, alerts: 1, preceded: true, leadCycles: 1, falseAlerts: 0 });
    expect(e3).toMatchObject({ unit: 3, alerts: 0, preceded: false, leadCycles: null, falseAlerts: 0, firstAlertCycle: null });
    expect(isEscalation({ from: 'MAINTENANCE', to: 'WARNING' })).toBe(true);
  });
});

describe('replayCmapss', () => {
  it(
    'retrains without the held-out engines and replays them through the pipeline with balanced accounting',
    async () => {
      // Arrange: two engines held out; few rounds, since only the plumbing and the scoring are under test.
      const holdout = [7, 31];
      const eol = lastCycles();
      // Act
      const r = await replayCmapss({ dataDir: DATA, holdout, seed: 1, maxRounds: 20 });
      // Assert
      expect(r.holdout).toEqual(holdout);
      expect(r.trainingEngines).toBe(98);
      expect(r.horizonCycles).toBe(DEFAULT_HORIZON_CYCLES);
      const cycles = eol.get(7)! + eol.get(31)!;
      expect(r.published).toEqual({ telemetry: cycles, accepted: cycles, refused: 0 });
      expect(r.summary.samples).toEqual({ received: cycles, clean: cycles, quarantined: 0 });
      expect(r.balanced).toEqual({ messages: true, samples: true, readings: true });
      expect(r.perEngine.map((e) => [e.unit, e.endOfLife])).toEqual([
        [7, eol.get(7)],
        [31, eol.get(31)],
      ]);
      expect(r.alertList.every((a) => a.assetId === 'cmapss-7' || a.assetId === 'cmapss-31')).toBe(true);
      expect(r.preceded).toBe(r.perEngine.filter((e) => e.preceded).length);
      const report = cmapssReplayReport(r);
      expect(report).not.toHaveProperty('alertList');
      expect(report).toMatchObject({ engines: 2, falseAlerts: r.falseAlerts, medianLeadCycles: r.medianLeadCycles });
    },
    600_000,
  );
});
