/**
 * Seeded generator of pump telemetry (centrifugal-pump sensors) with injectable faults. The healthy
 * readings come from the fleet simulator's own physics (`devices/physics.ts` `pumpReadings`, no wear),
 * driven by the same load as `devices/fleet.ts`: a daily sine plus noise, one sample per 10 minutes.
 * The shipped pump baseline is fitted on this data, so it matches what the simulated fleet produces.
 */
import { pumpReadings } from '../../devices/physics.ts';
import { Rng } from '../../devices/rng.ts';

export const PUMP_SENSORS = ['temperature', 'vibration', 'pressure', 'flow', 'rpm', 'current'] as const;
export type PumpSensor = (typeof PUMP_SENSORS)[number];

export type FaultKind = 'step' | 'drift' | 'variance' | 'decouple' | 'spike';
export const FAULT_KINDS: readonly FaultKind[] = ['step', 'drift', 'variance', 'decouple', 'spike'];

/** Samples per simulated day (one per 10 minutes, as the fleet simulator's default interval). */
export const SAMPLES_PER_DAY = 144;

/**
 * Healthy measurement-noise SD per sensor at a given load, in catalog units, derived from the noise terms
 * of `pumpReadings`: faults are sized in these units. Vibration's noise is half-normal, 0.15·|N(0,1)|,
 * whose SD is 0.15·sqrt(1 − 2/π). Flow and pressure also inherit rpm's noise (4 rpm) through the speed
 * factor; at the mean load 0.7 that adds 250·0.7·4/2950 to flow and 9.5·2·(1.15 − 0.35·0.7)·4/2950 to
 * pressure, in quadrature. `test/ml/anomaly/simulate.test.ts` checks these against sampled SDs.
 */
export const PUMP_NOISE: Readonly<Record<PumpSensor, number>> = {
  temperature: 0.6,
  vibration: 0.15 * Math.sqrt(1 - 2 / Math.PI),
  pressure: Math.hypot(0.08, (9.5 * 2 * (1.15 - 0.35 * 0.7) * 4) / 2950),
  flow: Math.hypot(2.5, (250 * 0.7 * 4) / 2950),
  rpm: 4,
  current: 0.8,
};

export interface Fault {
  kind: FaultKind;
  sensor: PumpSensor;
  /** First faulty sample. */
  start: number;
}

export interface SimulatedSeries {
  rows: Array<Record<PumpSensor, number>>;
  /** Per sample: the fault is active and affects this sample (for spikes: a spike was injected here). */
  faulty: boolean[];
}

/**
 * The fleet simulator's pump load: 0.7 + 0.2·sin(2π·hours/24) + 0.03·N(0,1), clipped to [0.1, 1]. The
 * phase is drawn per series so fault onsets do not always fall at the same time of day.
 */
class DailyLoad {
  private readonly phase: number;
  constructor(private readonly rng: Rng) {
    this.phase = rng.next() * SAMPLES_PER_DAY;
  }
  at(t: number): number {
    const load =
      0.7 + 0.2 * Math.sin((2 * Math.PI * (t + this.phase)) / SAMPLES_PER_DAY) + 0.03 * this.rng.normal();
    return Math.min(1, Math.max(0.1, load));
  }
}

/**
 * One series of `length` samples; with `fault`, that fault is injected from `fault.start` on.
 * Fault sizes (healthy noise SD σ of the sensor, `PUMP_NOISE`): step +6σ; drift ramping 0 → 12σ over the
 * faulty part; variance: noise SD ×4; decouple: the sensor follows an independent load (its own daily
 * phase and noise, through a second `pumpReadings` call); spike: ±12σ on 5% of samples.
 */
export function simulatePump(seed: number, length: number, fault?: Fault): SimulatedSeries {
  const rng = new Rng(seed);
  const load = new DailyLoad(rng);
  const rogue = new DailyLoad(rng);
  // Separate streams for the fault's own draws: a faulty series shares its healthy part with the
  // fault-free series of the same seed, so the pre-onset samples are identical.
  const faultRng = new Rng(seed ^ 0x5bd1e995);
  const rows: Array<Record<PumpSensor, number>> = [];
  const faulty: boolean[] = [];
  for (let t = 0; t < length; t++) {
    const healthy = pumpReadings(load.at(t), {}, rng);
    const rogueLoad = rogue.at(t);
    const row = pick(healthy);
    const active = fault !== undefined && t >= fault.start;
    let hit = active && fault.kind !== 'spike';
    if (active) {
      const sd = PUMP_NOISE[fault.sensor];
      switch (fault.kind) {
        case 'step':
          row[fault.sensor] += 6 * sd;
          break;
        case 'drift':
          row[fault.sensor] += (12 * sd * (t - fault.start + 1)) / (length - fault.start);
          break;
        case 'variance':
          // Total noise SD 4σ: add independent noise of SD sqrt(15)·σ to the healthy σ.
          row[fault.sensor] += Math.sqrt(15) * sd * faultRng.normal();
          break;
        case 'decouple':
          row[fault.sensor] = pick(pumpReadings(rogueLoad, {}, faultRng))[fault.sensor];
          break;
        case 'spike':
          if (faultRng.next() < 0.05) {
            row[fault.sensor] += 12 * sd * (faultRng.next() < 0.5 ? -1 : 1);
            hit = true;
          }
          break;
      }
    }
    rows.push(row);
    faulty.push(hit);
  }
  return { rows, faulty };
}

/** The device physics no longer produces a sensor this generator needs. */
export class SimulationError extends Error {
  override name = 'SimulationError';
}

function pick(r: Record<string, number>): Record<PumpSensor, number> {
  const out = {} as Record<PumpSensor, number>;
  for (const s of PUMP_SENSORS) {
    const v = r[s];
    // A missing sensor would otherwise enter the fit as "missing" and go unnoticed.
    if (v === undefined) throw new SimulationError(`pumpReadings returned no '${s}'`);
    out[s] = v;
  }
  return out;
}
