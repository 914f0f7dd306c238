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
  const pressure = 9.5 * speed * speed * (1.15 - 0.35 * load) * (1 - 0.3 * impeller - 0.25 * seal) + rng.normal() * 0.08;
  // Efficiency drops with impeller wear and motor faults: more current for the same hydraulic work.
  const current = (38 + 70 * load) * (1 + 0.25 * impeller + 0.35 * motor) + rng.normal() * 0.8;
  const temperature = 42 + 14 * load + 38 * bearing ** 1.5 + 8 * motor + rng.normal() * 0.6;
  const vibration = 1.8 + 0.9 * load + 9 * bearing ** 2 + 3 * impeller ** 2 + Math.abs(rng.normal()) * 0.15;
  return { temperature, vibration, pressure, flow, rpm, current };
}

/**
 * Industrial machine as in the Azure PdM data: hourly volt ≈ 171 V, rotate ≈ 447 rpm, pressure ≈ 101,
 * vibration ≈ 40.4 with the spreads of that data; a wearing component shifts the sensor that observes it.
 */
export function machineReadings(wear: Wear, rng: Rng): Record<string, number> {
  return {
    volt: 170.8 + 15.5 * rng.normal() + 30 * w(wear, 'comp1') ** 2,
    rotate: 446.6 - 120 * w(wear, 'comp2') ** 2 + 52.7 * rng.normal(),
    pressure: 100.9 + 35 * w(wear, 'comp3') ** 2 + 11 * rng.normal(),
    vibration: 40.4 + 14 * w(wear, 'comp4') ** 2 + 5.4 * rng.normal(),
  };
}

/**
 * Turbofan at sea level with FD001-like values: HPC wear raises temperatures and pressures at the
 * compressor outlet and lowers the fuel-flow ratio, as in C-MAPSS.
 */
export function turbofanReadings(wear: Wear, rng: Rng): Record<string, number> {
  const hpc = w(wear, 'hpc');
  const fan = w(wear, 'fan');
  const d = hpc ** 2;
  const n = () => rng.normal();
  return {
    altitude: 0.0001 * n(),
    mach: 0.0002 * n(),
    tra: 100,
    T2: 518.67,
    T24: 642.3 + 1.5 * d + 0.5 * n(),
    T30: 1588 + 18 * d + 6 * n(),
    T50: 1404 + 28 * d + 8.5 * n(),
    P2: 14.62,
    P15: 21.61,
    P30: 554.0 - 4.5 * d + 0.88 * n(),
    Nf: 2388.05 + 0.25 * d + 0.07 * fan + 0.07 * n(),
    Nc: 9050 + 40 * d + 20 * n(),
    epr: 1.3,
    Ps30: 47.3 + 1.0 * d + 0.26 * n(),
    phi: 521.6 - 3.6 * d + 0.73 * n(),
    NRf: 2388.05 + 0.25 * d + 0.07 * n(),
    NRc: 8140 + 40 * d + 17 * n(),
    BPR: 8.42 + 0.08 * d + 0.037 * fan + 0.037 * n(),
    farB: 0.03,
    htBleed: 393 + 4 * d + 1.5 * n(),
    Nf_dmd: 2388,
    PCNfR_dmd: 100,
    W31: 38.8 - 0.6 * d + 0.18 * n(),
    W32: 23.3 - 0.35 * d + 0.11 * n(),
  };
}
