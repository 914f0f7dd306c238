/**
 * Measures the anomaly-score candidates on (a) injected faults in simulated pump data, (b) the Azure PdM
 * slice and (c) C-MAPSS FD001. Run: `npx tsx ml/anomaly/evaluate.ts [--json] [--chosen]`.
 */
import { createAnomalyState, scoreAnomaly, topContributors } from '../../lambdas/core/anomaly/score.ts';
import type { AnomalyBaseline, AnomalyMethod } from '../../lambdas/core/anomaly/types.ts';
import { ANOMALY_METHODS } from '../../lambdas/core/anomaly/types.ts';
import { CENTRIFUGAL_PUMP, INDUSTRIAL_MACHINE, TURBOFAN } from '../../lambdas/core/catalog/index.ts';
import {
  type AzureFailure,
  type AzureHour,
  type CmapssCycle,
  labelAzure,
  loadAzureFailures,
  loadAzureTelemetry,
  loadCmapss,
} from './data.ts';
import { fitBaseline, type Row } from './fit.ts';
import { FAULT_KINDS, type FaultKind, PUMP_SENSORS, simulatePump } from './simulate.ts';
import { auc, mean, quantileSorted, sortedFinite, spearman } from './stats.ts';

export interface Candidate {
  method: AnomalyMethod;
  ewmaAlpha: number;
  /** Mahalanobis shrinkage; @default fitBaseline's default */
  shrinkage?: number;
}

export const candidateLabel = (c: Candidate) =>
  (c.ewmaAlpha === 1 ? c.method : `${c.method}+ewma${c.ewmaAlpha}`) +
  (c.shrinkage === undefined ? '' : `(λ=${c.shrinkage})`);

/** Every method, unsmoothed and with two EWMA weights (half-lives ≈ 2 and ≈ 7 samples). */
export const CANDIDATES: readonly Candidate[] = ANOMALY_METHODS.flatMap((method) =>
  [1, 0.3, 0.1].map((ewmaAlpha) => ({ method, ewmaAlpha })),
);

/** The method the shipped baselines use, chosen from this evaluation (see docs/anomaly.md). */
export const CHOSEN: Readonly<Record<'centrifugal-pump' | 'industrial-machine' | 'turbofan', Candidate>> = {
  'centrifugal-pump': { method: 'mahalanobis', ewmaAlpha: 1 },
  'industrial-machine': { method: 'mahalanobis', ewmaAlpha: 0.1 },
  turbofan: { method: 'mahalanobis', ewmaAlpha: 1 },
};

/** Healthy-threshold the twin uses for WATCH: the false-positive rate is measured here. */
const THRESHOLD = 0.5;

interface Scored {
  score: number;
  top: string | undefined;
}

function scoreStream(b: AnomalyBaseline, rows: readonly Row[], segments: ArrayLike<number>): Scored[] {
  const out: Scored[] = [];
  let state = createAnomalyState(b);
  for (let i = 0; i < rows.length; i++) {
    if (i > 0 && segments[i] !== segments[i - 1]) state = createAnomalyState(b);
    const r = scoreAnomaly(b, state, rows[i]!);
    out.push({ score: r.score, top: topContributors(r, 1)[0]?.sensor });
  }
  return out;
}

const rate = (xs: readonly boolean[]) =>
  xs.length === 0 ? Number.NaN : xs.filter(Boolean).length / xs.length;

// ---------------------------------------------------------------- (a) simulated pump

export interface SimulatedFigures {
  fault: FaultKind;
  auc: number;
  /** Share of faulty samples scoring ≥ 0.5. */
  detectionRate: number;
  /** Among faulty samples scoring ≥ 0.5: top contributor is the faulted sensor. */
  top1: number;
}

export interface SimulatedReport {
  healthyFpr: number;
  faults: SimulatedFigures[];
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** Seeds of the simulated pump's fitting series. */
export const SIM_FIT_SEEDS: readonly number[] = range(1, 10);
/** Seeds of the healthy series the false-positive rate is measured on (never fitted on). */
export const SIM_HEALTHY_SEEDS: readonly number[] = range(1001, 1020);
const SIM_REPEATS = 5;
/** Seed of one fault series: fault kind `k`, repeat `rep`, faulted sensor `j`. */
const faultSeed = (k: number, rep: number, j: number) => 10_000 + k * 1000 + rep * 10 + j;
/** Seeds of every fault series (never fitted on). */
export const SIM_FAULT_SEEDS: readonly number[] = FAULT_KINDS.flatMap((_, k) =>
  range(0, SIM_REPEATS - 1).flatMap((rep) => PUMP_SENSORS.map((_, j) => faultSeed(k, rep, j))),
);

/** Healthy fitting data of the simulated pump: 10 series × 1,000 samples, seeds 1–10. */
export function simulatedHealthy(): { rows: Row[]; segments: number[] } {
  const rows: Row[] = [];
  const segments: number[] = [];
  for (const s of SIM_FIT_SEEDS) {
    for (const r of simulatePump(s, 1000).rows) {
      rows.push(r);
      segments.push(s);
    }
  }
  return { rows, segments };
}

export function evaluateSimulated(c: Candidate): SimulatedReport {
  const fit = simulatedHealthy();
  const b = fitBaseline(c.method, CENTRIFUGAL_PUMP, fit.rows, {
    source: 'simulated',
    ewmaAlpha: c.ewmaAlpha,
    ...(c.shrinkage === undefined ? {} : { shrinkage: c.shrinkage }),
    segments: fit.segments,
  });
  const healthy: boolean[] = [];
  for (const s of SIM_HEALTHY_SEEDS) {
    const series = simulatePump(s, 500).rows;
    for (const r of scoreStream(b, series, new Uint8Array(series.length))) healthy.push(r.score >= THRESHOLD);
  }
  const faults = FAULT_KINDS.map((kind, k): SimulatedFigures => {
    const pos: number[] = [];
    const neg: number[] = [];
    const hits: boolean[] = [];
    const named: boolean[] = [];
    for (let rep = 0; rep < SIM_REPEATS; rep++) {
      PUMP_SENSORS.forEach((sensor, j) => {
        const seed = faultSeed(k, rep, j);
        const start = 200;
        const series = simulatePump(seed, 400, { kind, sensor, start });
        const scored = scoreStream(b, series.rows, new Uint8Array(series.rows.length));
        scored.forEach((r, t) => {
          if (t < start) neg.push(r.score);
          else if (series.faulty[t]) {
            pos.push(r.score);
            hits.push(r.score >= THRESHOLD);
            if (r.score >= THRESHOLD) named.push(r.top === sensor);
          }
        });
      });
    }
    return { fault: kind, auc: auc(pos, neg), detectionRate: rate(hits), top1: rate(named) };
  });
  return { healthyFpr: rate(healthy), faults };
}

// ---------------------------------------------------------------- (b) Azure PdM

export interface AzureData {
  hours: AzureHour[];
  failures: AzureFailure[];
}

export function loadAzure(): AzureData {
  return { hours: loadAzureTelemetry(), failures: loadAzureFailures() };
}

/** Catalog mapping from component to the sensor that observes it (industrial-machine). */
export const AZURE_CATALOG_SENSOR: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(INDUSTRIAL_MACHINE.sensors).flatMap(([sensor, spec]) =>
    spec.components.map((c) => [c, sensor]),
  ),
);

/** Healthy Azure hours: no failure of the machine within the next 7 days; EWMA restarts at every gap. */
export function azureHealthy(data: AzureData): { rows: Row[]; segments: number[] } {
  const labels = labelAzure(data.hours, data.failures);
  const rows: Row[] = [];
  const segments: number[] = [];
  let segment = 0;
  let prevIncluded = false;
  data.hours.forEach((h, i) => {
    const ok = labels[i]!.healthy;
    const newMachine = i > 0 && data.hours[i - 1]!.machineId !== h.machineId;
    if (ok) {
      if (!prevIncluded || newMachine) segment++;
      rows.push(h.readings);
      segments.push(segment);
    }
    prevIncluded = ok;
  });
  return { rows, segments };
}

export interface AzureComponentFigures {
  component: string;
  failures: number;
  auc: number;
  detectionRate: number;
  /** Among the 24 h before failures: top contributor is the catalog's sensor for the component. */
  top1Catalog: number;
  /** Most frequent top contributor over those hours, and its share. */
  topSensor: string;
  topSensorShare: number;
}

export interface AzureReport {
  healthyRows: number;
  healthyFpr: number;
  components: AzureComponentFigures[];
}

export function evaluateAzure(c: Candidate, data: AzureData): AzureReport {
  const fit = azureHealthy(data);
  const b = fitBaseline(c.method, INDUSTRIAL_MACHINE, fit.rows, {
    source: 'azure',
    ewmaAlpha: c.ewmaAlpha,
    ...(c.shrinkage === undefined ? {} : { shrinkage: c.shrinkage }),
    segments: fit.segments,
  });
  const labels = labelAzure(data.hours, data.failures);
  const scored = scoreStream(
    b,
    data.hours.map((h) => h.readings),
    data.hours.map((h) => h.machineId),
  );
  const healthy = scored.filter((_, i) => labels[i]!.healthy).map((r) => r.score >= THRESHOLD);
  const rest = scored.filter((_, i) => labels[i]!.failing === null).map((r) => r.score);
  const inSlice = new Set(data.hours.map((h) => h.machineId));
  const first = data.hours[0]!.ts;
  const last = data.hours[data.hours.length - 1]!.ts;
  const components = ['comp1', 'comp2', 'comp3', 'comp4'].map((component): AzureComponentFigures => {
    const pos = scored.filter((_, i) => labels[i]!.failing === component);
    const tops = new Map<string, number>();
    for (const r of pos) if (r.top) tops.set(r.top, (tops.get(r.top) ?? 0) + 1);
    const [topSensor, count] = [...tops.entries()].sort((a, b) => b[1] - a[1])[0] ?? ['-', 0];
    return {
      component,
      failures: data.failures.filter(
        (f) =>
          f.component === component && inSlice.has(f.machineId) && f.ts > first && f.ts <= last + 3_600_000,
      ).length,
      auc: auc(
        pos.map((r) => r.score),
        rest,
      ),
      detectionRate: rate(pos.map((r) => r.score >= THRESHOLD)),
      top1Catalog: rate(pos.map((r) => r.top === AZURE_CATALOG_SENSOR[component])),
      topSensor,
      topSensorShare: pos.length === 0 ? Number.NaN : count / pos.length,
    };
  });
  return { healthyRows: fit.rows.length, healthyFpr: rate(healthy), components };
}

/**
 * Data check of the catalog's component → sensor mapping, method-free: mean shift of each sensor in the
 * 24 h before failures of each component, in healthy robust SDs (median/MAD of healthy hours).
 */
export function azureSensorShifts(
  data: AzureData,
): Array<{ component: string; shifts: Record<string, number> }> {
  const labels = labelAzure(data.hours, data.failures);
  const sensors = Object.keys(INDUSTRIAL_MACHINE.sensors);
  const ref = Object.fromEntries(
    sensors.map((s) => {
      const v = sortedFinite(data.hours.filter((_, i) => labels[i]!.healthy).map((h) => h.readings[s]!));
      const med = quantileSorted(v, 0.5);
      const mad = quantileSorted(sortedFinite(Array.from(v, (x) => Math.abs(x - med))), 0.5) * 1.4826;
      return [s, { med, mad }];
    }),
  );
  return ['comp1', 'comp2', 'comp3', 'comp4'].map((component) => {
    const pos = data.hours.filter((_, i) => labels[i]!.failing === component);
    const shifts: Record<string, number> = {};
    for (const s of sensors) shifts[s] = (mean(pos.map((h) => h.readings[s]!)) - ref[s]!.med) / ref[s]!.mad;
    return { component, shifts };
  });
}

// ---------------------------------------------------------------- (c) C-MAPSS FD001

export interface CmapssReport {
  healthyRows: number;
  meanFirst50: number;
  meanLast20: number;
  /** Pooled Spearman of score with cycle, and the mean of the per-engine coefficients. */
  spearmanPooled: number;
  spearmanPerEngine: number;
  /** Last 30 cycles of each run vs its first 50. */
  auc: number;
  fprFirst50: number;
  detectionLast30: number;
}

export function cmapssHealthy(data: readonly CmapssCycle[]): { rows: Row[]; segments: number[] } {
  const early = data.filter((d) => d.cycle <= 30);
  return { rows: early.map((d) => d.readings), segments: early.map((d) => d.unit) };
}

export function evaluateCmapss(c: Candidate, data: readonly CmapssCycle[]): CmapssReport {
  const fit = cmapssHealthy(data);
  const b = fitBaseline(c.method, TURBOFAN, fit.rows, {
    source: 'cmapss',
    ewmaAlpha: c.ewmaAlpha,
    ...(c.shrinkage === undefined ? {} : { shrinkage: c.shrinkage }),
    segments: fit.segments,
  });
  const scored = scoreStream(
    b,
    data.map((d) => d.readings),
    data.map((d) => d.unit),
  ).map((r) => r.score);
  const first50 = scored.filter((_, i) => data[i]!.cycle <= 50);
  const last20 = scored.filter((_, i) => data[i]!.lastCycle - data[i]!.cycle < 20);
  const last30 = scored.filter((_, i) => data[i]!.lastCycle - data[i]!.cycle < 30);
  const perEngine: number[] = [];
  for (const unit of new Set(data.map((d) => d.unit))) {
    const idx = data.flatMap((d, i) => (d.unit === unit ? [i] : []));
    perEngine.push(
      spearman(
        idx.map((i) => data[i]!.cycle),
        idx.map((i) => scored[i]!),
      ),
    );
  }
  return {
    healthyRows: fit.rows.length,
    meanFirst50: mean(first50),
    meanLast20: mean(last20),
    spearmanPooled: spearman(
      data.map((d) => d.cycle),
      scored,
    ),
    spearmanPerEngine: mean(perEngine.filter(Number.isFinite)),
    auc: auc(last30, first50),
    fprFirst50: rate(first50.map((s) => s >= THRESHOLD)),
    detectionLast30: rate(last30.map((s) => s >= THRESHOLD)),
  };
}

// ---------------------------------------------------------------- all together

export interface CandidateReport {
  candidate: string;
  simulated: SimulatedReport;
  azure: AzureReport;
  cmapss: CmapssReport;
  summary: {
    simulatedAuc: number;
    simulatedDetection: number;
    simulatedTop1: number;
    azureAuc: number;
    azureDetection: number;
    azureTop1Catalog: number;
    cmapssAuc: number;
    /** Worst false-positive rate at 0.5 over the three healthy sets. */
    worstFpr: number;
  };
}

export interface EvaluationOptions {
  /** @default CANDIDATES */
  candidates?: readonly Candidate[];
  azure?: AzureData;
  cmapss?: readonly CmapssCycle[];
}

export function evaluateAnomaly(options: EvaluationOptions = {}): CandidateReport[] {
  const azure = options.azure ?? loadAzure();
  const cmapss = options.cmapss ?? loadCmapss();
  return (options.candidates ?? CANDIDATES).map((c) => {
    const simulated = evaluateSimulated(c);
    const az = evaluateAzure(c, azure);
    const cm = evaluateCmapss(c, cmapss);
    const finite = (xs: number[]) => mean(xs.filter(Number.isFinite));
    return {
      candidate: candidateLabel(c),
      simulated,
      azure: az,
      cmapss: cm,
      summary: {
        simulatedAuc: finite(simulated.faults.map((f) => f.auc)),
        simulatedDetection: finite(simulated.faults.map((f) => f.detectionRate)),
        simulatedTop1: finite(simulated.faults.map((f) => f.top1)),
        azureAuc: finite(az.components.map((x) => x.auc)),
        azureDetection: finite(az.components.map((x) => x.detectionRate)),
        azureTop1Catalog: finite(az.components.map((x) => x.top1Catalog)),
        cmapssAuc: cm.auc,
        worstFpr: Math.max(simulated.healthyFpr, az.healthyFpr, cm.fprFirst50),
      },
    };
  });
}

const f2 = (v: number) => (Number.isFinite(v) ? v.toFixed(2) : '  - ');
const f3 = (v: number) => (Number.isFinite(v) ? v.toFixed(3) : '  -  ');

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => `| ${r.map((v, i) => v.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

export function formatReport(reports: readonly CandidateReport[], azure?: AzureData): string {
  const out: string[] = [];
  out.push('Summary (AUCs: means over fault kinds / components; detection and FPR at score ≥ 0.5)\n');
  out.push(
    table(
      [
        'candidate',
        'sim AUC',
        'sim det',
        'sim top1',
        'azure AUC',
        'azure det',
        'azure top1',
        'cmapss AUC',
        'worst FPR',
      ],
      reports.map((r) => [
        r.candidate,
        f3(r.summary.simulatedAuc),
        f2(r.summary.simulatedDetection),
        f2(r.summary.simulatedTop1),
        f3(r.summary.azureAuc),
        f2(r.summary.azureDetection),
        f2(r.summary.azureTop1Catalog),
        f3(r.summary.cmapssAuc),
        f3(r.summary.worstFpr),
      ]),
    ),
  );
  out.push('\n(a) Simulated pump, per fault kind: AUC / detection rate / top-1 root cause\n');
  out.push(
    table(
      ['candidate', 'healthy FPR', ...FAULT_KINDS],
      reports.map((r) => [
        r.candidate,
        f3(r.simulated.healthyFpr),
        ...r.simulated.faults.map((f) => `${f3(f.auc)} / ${f2(f.detectionRate)} / ${f2(f.top1)}`),
      ]),
    ),
  );
  out.push(
    '\n(b) Azure PdM, 24 h before failure vs rest, per component: AUC / detection / top1 = catalog sensor\n',
  );
  out.push(
    table(
      ['candidate', 'healthy FPR', 'comp1', 'comp2', 'comp3', 'comp4', 'most frequent top sensor per comp'],
      reports.map((r) => [
        r.candidate,
        f3(r.azure.healthyFpr),
        ...r.azure.components.map((x) => `${f3(x.auc)} / ${f2(x.detectionRate)} / ${f2(x.top1Catalog)}`),
        r.azure.components.map((x) => `${x.component}:${x.topSensor}(${f2(x.topSensorShare)})`).join(' '),
      ]),
    ),
  );
  if (azure) {
    out.push('\n(b′) Azure sensor shift in the 24 h before failure (healthy robust SDs), method-free\n');
    const shifts = azureSensorShifts(azure);
    const sensors = Object.keys(shifts[0]!.shifts);
    out.push(
      table(
        ['component', ...sensors, 'catalog sensor'],
        shifts.map((s) => [
          s.component,
          ...sensors.map((n) => f2(s.shifts[n]!)),
          AZURE_CATALOG_SENSOR[s.component]!,
        ]),
      ),
    );
  }
  out.push('\n(c) C-MAPSS FD001 (baseline: first 30 cycles of each engine)\n');
  out.push(
    table(
      [
        'candidate',
        'mean first50',
        'mean last20',
        'ρ pooled',
        'ρ per engine',
        'AUC last30/first50',
        'FPR first50',
        'det last30',
      ],
      reports.map((r) => [
        r.candidate,
        f3(r.cmapss.meanFirst50),
        f3(r.cmapss.meanLast20),
        f3(r.cmapss.spearmanPooled),
        f3(r.cmapss.spearmanPerEngine),
        f3(r.cmapss.auc),
        f3(r.cmapss.fprFirst50),
        f2(r.cmapss.detectionLast30),
      ]),
    ),
  );
  return out.join('\n');
}

const isMain = process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isMain) {
  const args = new Set(process.argv.slice(2));
  const azure = loadAzure();
  const candidates = args.has('--chosen')
    ? [...new Map(Object.values(CHOSEN).map((c) => [candidateLabel(c), c])).values()]
    : CANDIDATES;
  const reports = evaluateAnomaly({ candidates, azure });
  console.log(args.has('--json') ? JSON.stringify(reports, null, 2) : formatReport(reports, azure));
}
