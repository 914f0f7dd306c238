/**
 * Simulation scenarios beyond the default fleet (docs/simulator.md, "Scenarios").
 *
 * `drift`: from a tick on, the fleet changes the way fleets in service do, so that the feature drift
 * monitor (docs/drift.md) has something real to find and a retrained model has something to learn:
 * - a new operating regime for every asset (pumps run at a lower throughput setpoint with a smaller
 *   daily swing; machines turn slower), which moves the load-driven sensors and every feature built on them;
 * - a sensor recalibration on a seeded half of each asset model's assets (an offset or a gain on one or
 *   two sensors), as after a maintenance visit that swapped or re-zeroed a transmitter.
 * Wear also recurs: a replaced part wears out again after a seeded healthy spell, so the history holds
 * failures throughout the run (a retrain splits it by time and needs failures in every slice).
 *
 * Deterministic for a seed; it draws from its own generators, so the assets' noise streams are those of
 * the default scenario: until the first replacement (where wear starts to recur) the samples are the
 * default run's, byte for byte, and the regime and recalibration change nothing before the drift tick.
 */
import { Rng, seedFor } from './rng.ts';

export type ScenarioName = 'default' | 'drift';
export const SCENARIOS: readonly ScenarioName[] = ['default', 'drift'];

/** The drift scenario's shift starts here unless told otherwise: 5 simulated days of 10-minute ticks. */
export const DEFAULT_DRIFT_AT_TICK = 720;

export interface DriftScenario {
  readonly name: 'drift';
  /** First tick whose samples are shifted. @default DEFAULT_DRIFT_AT_TICK */
  readonly atTick?: number;
}

/** A scenario option that makes no sense (a negative tick, an unknown name). */
export class ScenarioError extends Error {
  override readonly name: string = 'ScenarioError';
}

export function validateScenario(s: DriftScenario): void {
  if (s.name !== 'drift') throw new ScenarioError(`unknown scenario "${String(s.name)}"; expected one of ${SCENARIOS.join(', ')}`);
  if (s.atTick !== undefined && (!Number.isInteger(s.atTick) || s.atTick < 0)) {
    throw new ScenarioError(`drift tick must be a non-negative integer, got ${s.atTick}`);
  }
}

/** Pump load after the shift: mean and daily swing of the new setpoint (before: 0.7 ± 0.2). */
export const DRIFT_PUMP_LOAD = { mean: 0.5, swing: 0.12 } as const;

/** Operating regime after the shift, as factors on sensors of models without a load input. */
const REGIME: Readonly<Record<string, Readonly<Record<string, number>>>> = {
  // A slower speed setpoint: rotate is the load-driven sensor of the Azure machine.
  'industrial-machine': { rotate: 0.9 },
};

/** Recalibration of the affected assets: value → value × gain + offset, per sensor. */
export const RECALIBRATION: Readonly<Record<string, Readonly<Record<string, { gain?: number; offset?: number }>>>> = {
  // A re-zeroed RTD reading 4 °C high, a pressure transmitter re-spanned 8 % high.
  'centrifugal-pump': { temperature: { offset: 4 }, pressure: { gain: 1.08 } },
  'industrial-machine': { vibration: { offset: 4 }, volt: { gain: 1.03 } },
  // Well inside the C-MAPSS ranges, a few healthy SDs (physics.ts TURBOFAN_HEALTHY).
  turbofan: { T50: { offset: 20 }, htBleed: { offset: 4 } },
};

/** The drift scenario's state for one simulator. */
export class DriftShift {
  readonly atTick: number;
  private readonly recalibrated: ReadonlySet<string>;
  private readonly gaps: Map<string, Rng>;

  constructor(
    scenario: DriftScenario,
    fleet: readonly { readonly assetId: string; readonly modelId: string }[],
    seed: number,
  ) {
    validateScenario(scenario);
    this.atTick = scenario.atTick ?? DEFAULT_DRIFT_AT_TICK;
    const rng = new Rng(seedFor(seed, 'scenario-drift'));
    const chosen = new Set<string>();
    const byModel = new Map<string, string[]>();
    for (const a of fleet) byModel.set(a.modelId, [...(byModel.get(a.modelId) ?? []), a.assetId]);
    for (const ids of byModel.values()) {
      // A seeded half (at least one) of each model's assets had a transmitter recalibrated.
      const order = [...ids];
      for (let i = order.length - 1; i > 0; i--) {
        const j = rng.int(i + 1);
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
      for (const id of order.slice(0, Math.max(1, Math.ceil(order.length / 2)))) chosen.add(id);
    }
    this.recalibrated = chosen;
    this.gaps = new Map(fleet.map((a) => [a.assetId, new Rng(seedFor(seed, `scenario-wear:${a.assetId}`))]));
  }

  /** Whether the shift applies at this tick. */
  active(tick: number): boolean {
    return tick >= this.atTick;
  }

  isRecalibrated(assetId: string): boolean {
    return this.recalibrated.has(assetId);
  }

  /** The pump's load at `hours` of simulated time, with the asset's own noise draw `z`. */
  pumpLoad(hours: number, z: number): number {
    return DRIFT_PUMP_LOAD.mean + DRIFT_PUMP_LOAD.swing * Math.sin((2 * Math.PI * hours) / 24) + 0.03 * z;
  }

  /** Applies the regime (all assets) and the recalibration (the chosen ones) in place. */
  apply(assetId: string, modelId: string, readings: Record<string, number>): void {
    for (const [sensor, factor] of Object.entries(REGIME[modelId] ?? {})) {
      if (readings[sensor] !== undefined) readings[sensor] *= factor;
    }
    if (!this.recalibrated.has(assetId)) return;
    for (const [sensor, { gain = 1, offset = 0 }] of Object.entries(RECALIBRATION[modelId] ?? {})) {
      if (readings[sensor] !== undefined) readings[sensor] = readings[sensor] * gain + offset;
    }
  }

  /**
   * Ticks of healthy running before a replaced part starts to wear again: 1–3 simulated days of
   * 10-minute ticks, so a wearing pump (about a day of wear) fails every 2–4 days.
   */
  nextHealthySpell(assetId: string): number {
    const rng = this.gaps.get(assetId) ?? new Rng(seedFor(0, assetId));
    return 144 + rng.int(288);
  }
}
