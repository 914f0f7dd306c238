import type { AssetModel, SensorSpec } from './types.ts';

const HOUR = 3_600_000;

function sensor(
  unit: string,
  description: string,
  min: number,
  max: number,
  components: readonly string[],
  extra: Partial<Pick<SensorSpec, 'featurize' | 'flatlineAfter'>> = {},
): SensorSpec {
  return { unit, description, min, max, components, ...extra };
}

/** Set-points and demanded values are constant by design: no features, no flatline check. */
const constant = { featurize: false, flatlineAfter: null } as const;

/**
 * Turbofan engine with the NASA C-MAPSS sensor set (Saxena et al., 2008): 3 operating settings and
 * 21 sensors. Ranges cover all four C-MAPSS operating regimes (sea level to 42 kft, Mach 0–0.84).
 * One sample per flight cycle, so the clock is in cycles.
 */
export const TURBOFAN: AssetModel = {
  id: 'turbofan',
  name: 'Turbofan engine (C-MAPSS)',
  description: 'Two-spool high-bypass turbofan, one sample per flight cycle.',
  clock: 'cycle',
  windows: { short: 5, medium: 15, long: 30 },
  components: {
    fan: { description: 'Fan' },
    lpc: { description: 'Low-pressure compressor' },
    hpc: { description: 'High-pressure compressor' },
    hpt: { description: 'High-pressure turbine' },
    lpt: { description: 'Low-pressure turbine' },
  },
  sensors: {
    altitude: sensor('kft', 'Operating setting 1: altitude', -1, 45, [], constant),
    mach: sensor('Mach', 'Operating setting 2: Mach number', -0.01, 1, [], constant),
    tra: sensor('%', 'Operating setting 3: throttle resolver angle', 0, 110, [], constant),
    T2: sensor('°R', 'Total temperature at fan inlet', 400, 560, ['fan'], constant),
    T24: sensor('°R', 'Total temperature at LPC outlet', 500, 700, ['lpc']),
    T30: sensor('°R', 'Total temperature at HPC outlet', 1200, 1700, ['hpc']),
    T50: sensor('°R', 'Total temperature at LPT outlet', 1000, 1500, ['lpt']),
    P2: sensor('psia', 'Pressure at fan inlet', 3, 16, ['fan'], constant),
    P15: sensor('psia', 'Total pressure in bypass duct', 3, 23, ['fan'], constant),
    P30: sensor('psia', 'Total pressure at HPC outlet', 100, 600, ['hpc']),
    Nf: sensor('rpm', 'Physical fan speed', 1800, 2450, ['fan']),
    Nc: sensor('rpm', 'Physical core speed', 7500, 9500, ['hpc', 'hpt']),
    epr: sensor('-', 'Engine pressure ratio (P50/P2)', 0.9, 1.4, ['lpt'], constant),
    Ps30: sensor('psia', 'Static pressure at HPC outlet', 5, 60, ['hpc']),
    phi: sensor('pps/psi', 'Ratio of fuel flow to Ps30', 100, 560, ['hpc']),
    NRf: sensor('rpm', 'Corrected fan speed', 1800, 2450, ['fan']),
    NRc: sensor('rpm', 'Corrected core speed', 7500, 8500, ['hpc']),
    BPR: sensor('-', 'Bypass ratio', 7.5, 11.5, ['fan']),
    farB: sensor('-', 'Burner fuel-air ratio', 0.01, 0.05, ['hpc'], constant),
    htBleed: sensor('-', 'Bleed enthalpy', 250, 450, ['hpc']),
    Nf_dmd: sensor('rpm', 'Demanded fan speed', 1800, 2450, ['fan'], constant),
    PCNfR_dmd: sensor('%', 'Demanded corrected fan speed', 80, 110, ['fan'], constant),
    W31: sensor('lbm/s', 'HPT coolant bleed', 5, 45, ['hpt']),
    W32: sensor('lbm/s', 'LPT coolant bleed', 5, 30, ['lpt']),
  },
  events: {
    egt_exceedance: { description: 'Exhaust gas temperature above its limit', component: 'hpt' },
    compressor_stall: { description: 'Compressor stall or surge detected', component: 'hpc' },
    fan_vibration: { description: 'Fan vibration above its advisory level', component: 'fan' },
  },
  attributes: { engineType: 'two-spool turbofan', ratedThrustLbf: 90_000 },
  downtimeCostPerHour: 10_000,
  // An unscheduled engine removal grounds the aircraft for days; a planned shop visit is slotted in.
  downtimeHours: { unplanned: 72, planned: 8 },
  // The short window: 5 flights before the rolling features mean what they mean in training.
  warmup: { samples: 5, span: 5 },
};

/** Centrifugal pump with the usual condition-monitoring set. */
export const CENTRIFUGAL_PUMP: AssetModel = {
  id: 'centrifugal-pump',
  name: 'Centrifugal pump',
  description: 'Electric-motor-driven centrifugal process pump.',
  clock: 'time',
  windows: { short: HOUR, medium: 24 * HOUR, long: 7 * 24 * HOUR },
  components: {
    impeller: { description: 'Impeller and volute' },
    bearing: { description: 'Drive-end bearing' },
    seal: { description: 'Mechanical seal' },
    motor: { description: 'Electric motor' },
  },
  sensors: {
    temperature: sensor('°C', 'Bearing housing temperature', -20, 150, ['bearing']),
    vibration: sensor('mm/s', 'Vibration velocity, RMS (ISO 10816)', 0, 50, ['bearing', 'impeller']),
    pressure: sensor('bar', 'Discharge pressure', 0, 40, ['impeller', 'seal']),
    flow: sensor('m3/h', 'Volumetric flow', 0, 500, ['impeller']),
    rpm: sensor('rpm', 'Shaft speed', 0, 4000, ['motor']),
    current: sensor('A', 'Motor current', 0, 200, ['motor']),
  },
  events: {
    bearing_overtemp: { description: 'Bearing housing temperature above its alarm level', component: 'bearing' },
    vibration_high: { description: 'Vibration velocity above its ISO 10816 alarm zone', component: 'bearing' },
    seal_leak: { description: 'Seal leakage detector tripped', component: 'seal' },
    motor_overcurrent: { description: 'Motor current above its trip level', component: 'motor' },
    low_flow: { description: 'Flow below the minimum continuous stable flow', component: 'impeller' },
  },
  attributes: { ratedFlowM3h: 250, ratedPowerKw: 75 },
  downtimeCostPerHour: 2_000,
  downtimeHours: { unplanned: 24, planned: 4 },
  // The short window filled: an hour of 10-minute samples.
  warmup: { samples: 6, span: HOUR },
};

/**
 * Industrial machine as in the Microsoft Azure predictive-maintenance data set: hourly volt, rotate,
 * pressure and vibration; four replaceable components.
 */
export const INDUSTRIAL_MACHINE: AssetModel = {
  id: 'industrial-machine',
  name: 'Industrial machine (Azure PdM)',
  description: 'Machine with four replaceable components, as in the Microsoft Azure PdM data set.',
  clock: 'time',
  windows: { short: 3 * HOUR, medium: 24 * HOUR, long: 7 * 24 * HOUR },
  components: {
    comp1: { description: 'Component 1' },
    comp2: { description: 'Component 2' },
    comp3: { description: 'Component 3' },
    comp4: { description: 'Component 4' },
  },
  sensors: {
    volt: sensor('V', 'Supply voltage', 0, 400, ['comp1']),
    rotate: sensor('rpm', 'Rotation speed', 0, 1000, ['comp2']),
    pressure: sensor('psi', 'Pressure', 0, 300, ['comp3']),
    vibration: sensor('mm/s', 'Vibration', 0, 150, ['comp4']),
  },
  // Azure PdM's non-breaking errors. The data set does not say which component a code concerns; each
  // maps to the component whose failures it precedes: in PdM_errors.csv and PdM_failures.csv, of the
  // errors logged exactly 24 h before a failure, error1 precedes comp1 183 times (others ≤ 11),
  // error2 and error3 comp2 256 times each (≤ 14), error4 comp3 128 times (≤ 4), error5 comp4 176
  // times (≤ 14). Reproduce with `npx vitest run test/core/catalog/events.test.ts`.
  events: {
    error1: { description: 'Azure PdM error 1 (non-breaking)', component: 'comp1' },
    error2: { description: 'Azure PdM error 2 (non-breaking)', component: 'comp2' },
    error3: { description: 'Azure PdM error 3 (non-breaking)', component: 'comp2' },
    error4: { description: 'Azure PdM error 4 (non-breaking)', component: 'comp3' },
    error5: { description: 'Azure PdM error 5 (non-breaking)', component: 'comp4' },
  },
  attributes: { family: 'azure-pdm' },
  downtimeCostPerHour: 1_500,
  downtimeHours: { unplanned: 24, planned: 4 },
  // The short window filled: three hourly samples.
  warmup: { samples: 3, span: 3 * HOUR },
};

export const ASSET_MODELS: readonly AssetModel[] = [TURBOFAN, CENTRIFUGAL_PUMP, INDUSTRIAL_MACHINE];
