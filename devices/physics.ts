/**
 * Physically plausible sensor models for the catalog's asset models. Each returns one sample's readings
 * from a load level, a wear level per component (0 = new, 1 = failed) and noise. Wear raises vibration
 * and temperature and lowers efficiency (more current for the same flow), as it does on real machines.
 */
import type { Rng } from './rng.ts';

export type Wear = Readonly<Record<string, number>>;

const w = (wear: Wear, component: string) => wear[component] ?? 0;

/** Centrifugal pump at ~2,950 rpm, 250 m³/h rated. `load` in [0, 1]. */
export function pumpReadings(load: number, wear: Wear, rng: Rng): Record<string, number> {
  const bearing = w(wear, 'bearing');
  const impeller = w(wear, 'impeller');
  const seal = w(wear, 'seal');
  const motor = w(wear, 'motor');
  const rpm = 2950 * (0.96 + 0.04 * load) * (1 - 0.03 * motor) + rng.normal() * 4;
  const speed = rpm / 2950;
  const flow = 250 * load * speed * (1 - 0.25 * impeller) + rng.normal() * 2.5;
  const pressure =
    9.5 * speed * speed * (1.15 - 0.35 * load) * (1 - 0.3 * impeller - 0.25 * seal) + rng.normal() * 0.08;
  // Efficiency drops with impeller wear and motor faults: more current for the same hydraulic work.
  const current = (38 + 70 * load) * (1 + 0.25 * impeller + 0.35 * motor) + rng.normal() * 0.8;
  const temperature = 42 + 14 * load + 38 * bearing ** 1.5 + 8 * motor + rng.normal() * 0.6;
  const vibration = 1.8 + 0.9 * load + 9 * bearing ** 2 + 3 * impeller ** 2 + Math.abs(rng.normal()) * 0.15;
  return { temperature, vibration, pressure, flow, rpm, current };
}

/**
 * Industrial machine as in the Azure PdM data: hourly volt ≈ 171 V, rotate ≈ 447 rpm, pressure ≈ 101,
 * vibration ≈ 40.4 with the spreads of that data. A wearing component shifts the sensor that observes it;
 * at failure the shift is about twice the mean shift the Azure data shows over the 24 h before a failure
 * (volt +1.3, rotate −1.5, pressure +2.5, vibration +2.1 robust SD), so that the mean over a ramp matches.
 */
export function machineReadings(wear: Wear, rng: Rng): Record<string, number> {
  return {
    volt: 170.8 + 15.5 * rng.normal() + 40 * w(wear, 'comp1') ** 1.5,
    rotate: 446.6 - 160 * w(wear, 'comp2') ** 1.5 + 52.7 * rng.normal(),
    pressure: 100.9 + 55 * w(wear, 'comp3') ** 1.5 + 11 * rng.normal(),
    vibration: 40.4 + 25 * w(wear, 'comp4') ** 1.5 + 5.4 * rng.normal(),
  };
}

/**
 * Healthy turbofan at sea level: centre and noise SD per sensor as measured on the first 30 cycles of
 * the C-MAPSS FD001 training engines (median and MAD-based SD), so a simulated healthy engine looks
 * like a real one to a baseline learned from that data.
 */
const TURBOFAN_HEALTHY: Readonly<Record<string, readonly [number, number]>> = {
  T24: [642.383, 0.38],
  T30: [1586.9, 4.65],
  T50: [1402.83, 5.93],
  P30: [553.948, 0.624],
  Nf: [2388.059, 0.055],
  Nc: [9056.06, 8.4],
  Ps30: [47.356, 0.177],
  phi: [521.905, 0.507],
  NRf: [2388.057, 0.055],
  NRc: [8137.38, 7.96],
  BPR: [8.4184, 0.0264],
  htBleed: [392.27, 1.14],
  W31: [38.932, 0.13],
  W32: [23.359, 0.0787],
};

/**
 * Shift at failure in units of healthy SD, with the sign C-MAPSS HPC degradation shows: temperatures,
 * pressure at the HPC outlet, speeds and bleed rise; P30, phi and coolant bleeds fall.
 */
const HPC_FAILURE_SHIFT: Readonly<Record<string, number>> = {
  T24: 4,
  T30: 5,
  T50: 6,
  P30: -6,
  Nf: 4,
  Nc: 3,
  Ps30: 6,
  phi: -6,
  NRf: 4,
  NRc: 3,
  BPR: 4,
  htBleed: 4,
  W31: -6,
  W32: -6,
};

/**
 * Loadings on the common factor of healthy FD001 engines (read off the correlation matrix of the first
 * 30 cycles: most informative sensors correlate at |r| ≈ 0.3–0.66 through one shared factor, initial
 * wear and manufacturing variation) and on a second factor only the core speeds share (r(Nc, NRc) = 0.76).
 */
const COMMON_LOADING: Readonly<Record<string, number>> = {
  T24: 0.6,
  T30: 0.5,
  T50: 0.73,
  P30: -0.76,
  Nf: 0.82,
  Nc: -0.55,
  Ps30: 0.8,
  phi: -0.79,
  NRf: 0.81,
  NRc: -0.68,
  BPR: 0.64,
  htBleed: 0.56,
  W31: -0.62,
  W32: -0.62,
};
const CORE_SPEED_LOADING: Readonly<Record<string, number>> = { Nc: 0.6, NRc: 0.6 };

/**
 * Turbofan readings for one flight cycle. `variation` is the engine's own position on the common factor
 * (standard normal, fixed per engine); HPC wear moves the sensors as in C-MAPSS, fan wear moves fan
 * speeds and BPR.
 */
export function turbofanReadings(wear: Wear, rng: Rng, variation = 0): Record<string, number> {
  const hpc = w(wear, 'hpc') ** 2;
  const fan = w(wear, 'fan') ** 2;
  const out: Record<string, number> = {
    altitude: 0.002 * rng.normal(),
    mach: 0.0002 * rng.normal(),
    tra: 100,
    T2: 518.67,
    P2: 14.62,
    P15: 21.61,
    epr: 1.3,
    farB: 0.03,
    Nf_dmd: 2388,
    PCNfR_dmd: 100,
  };
  // Common factor with unit variance: a third of it is the engine's fixed variation, the rest varies per cycle.
  const common = 0.58 * variation + 0.81 * rng.normal();
  const core = rng.normal();
  for (const [sensor, [centre, sd]] of Object.entries(TURBOFAN_HEALTHY)) {
    const a = COMMON_LOADING[sensor] ?? 0;
    const b = CORE_SPEED_LOADING[sensor] ?? 0;
    const z = a * common + b * core + Math.sqrt(Math.max(0, 1 - a * a - b * b)) * rng.normal();
    const fanShift = sensor === 'Nf' || sensor === 'NRf' || sensor === 'BPR' ? 5 * fan : 0;
    out[sensor] = centre + sd * ((HPC_FAILURE_SHIFT[sensor] ?? 0) * hpc + fanShift + z);
  }
  return out;
}
