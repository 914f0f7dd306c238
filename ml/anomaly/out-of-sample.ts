/**
 * Out-of-sample evaluation of the anomaly score: every baseline is fitted on one part of the data and
 * measured on another it never saw.
 * - C-MAPSS FD001: fitted on cycles 1–30 of the 100 training engines (as shipped), measured on the 100
 *   test engines (other engines, truncated before failure, true RUL from RUL_FD001.txt): cycles with
 *   RUL ≤ 30 against cycles with RUL > 125.
 * - Azure PdM: fitted on healthy hours up to a cut date (hours whose 7-day look-ahead ends before it, so
 *   no label after the cut is read), measured on the hours after it: the 24 h before each failure of a
 *   component against every hour not within 24 h before a failure.
 * - Simulated pump: fitted on seeds 1–10, measured on healthy seeds 1001–1020 and fault seeds ≥ 10,000.
 * Every split is returned with its row identities so that a test can check the parts never overlap.
 */
import { createAnomalyState, scoreAnomaly, topContributors } from '../../lambdas/core/anomaly/score.ts';
import type { AnomalyBaseline } from '../../lambdas/core/anomaly/types.ts';
import { INDUSTRIAL_MACHINE, TURBOFAN } from '../../lambdas/core/catalog/index.ts';
import { CMAPSS_VALUE_COLUMNS, readCmapss, readRul } from '../datasets/cmapss.ts';
import { type AzureHour, DATA_DIR, labelAzure } from './data.ts';
import {
  AZURE_CATALOG_SENSOR,
  type AzureData,
  type Candidate,
  candidateLabel,
  evaluateSimulated,
  SIM_FAULT_SEEDS,
  SIM_FIT_SEEDS,
  SIM_HEALTHY_SEEDS,
  type SimulatedReport,
} from './evaluate.ts';
import { fitBaseline, type Row } from './fit.ts';
import { auc, mean } from './stats.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Score at which the twin enters WATCH: detection and false-positive rates are measured there. */
const THRESHOLD = 0.5;
/** Healthy = no failure of the machine within this look-ahead (as in the in-sample fit). */
const HEALTHY_LOOKAHEAD = 7 * DAY;

export const CMAPSS_TEST_FD001 = `${DATA_DIR}cmapss/test_FD001.txt`;
export const CMAPSS_RUL_FD001 = `${DATA_DIR}cmapss/RUL_FD001.txt`;
export const CMAPSS_TRAIN_FD001 = `${DATA_DIR}cmapss/train_FD001.txt`;

/** The default Azure cut: data up to and including 2015-02-28 fits, March is measured. */
export const DEFAULT_TRAIN_UNTIL = '2015-02-28';

/** The split's arguments do not make sense (a cut date outside the data, a malformed date). */
export class OutOfSampleSplitError extends Error {
  override readonly name: string = 'OutOfSampleSplitError';
}

const rate = (xs: readonly boolean[]) => (xs.length === 0 ? Number.NaN : xs.filter(Boolean).length / xs.length);

function scoreStream(b: AnomalyBaseline, rows: readonly Row[], segments: ArrayLike<number>) {
  const out: Array<{ score: number; top: string | undefined }> = [];
  let state = createAnomalyState(b);
  for (let i = 0; i < rows.length; i++) {
    if (i > 0 && segments[i] !== segments[i - 1]) state = createAnomalyState(b);
    const r = scoreAnomaly(b, state, rows[i]!);
    out.push({ score: r.score, top: topContributors(r, 1)[0]?.sensor });
  }
  return out;
}

const fitOptions = (c: Candidate, source: string, segments: number[]) => ({
  source,
  ewmaAlpha: c.ewmaAlpha,
  ...(c.shrinkage === undefined ? {} : { shrinkage: c.shrinkage }),
  segments,
});

// ---------------------------------------------------------------- C-MAPSS FD001: train engines → test engines

/** One C-MAPSS cycle with where it comes from: `file` tells the training engines from the test engines. */
export interface CmapssRow {
  readonly file: 'train' | 'test';
  readonly unit: number;
  readonly cycle: number;
  /** True RUL at this cycle (cycles); for training engines the distance to their last cycle. */
  readonly rul: number;
  readonly readings: Row;
}

export interface CmapssSplit {
  readonly fit: readonly CmapssRow[];
  readonly evaluate: readonly CmapssRow[];
}

function cmapssRows(path: string, file: 'train' | 'test', rulAtEnd?: readonly number[]): CmapssRow[] {
  const parsed = readCmapss(path);
  if (rulAtEnd && rulAtEnd.length !== parsed.engines.length) {
    throw new OutOfSampleSplitError(`${path}: ${parsed.engines.length} engines but ${rulAtEnd.length} RUL values`);
  }
  const width = CMAPSS_VALUE_COLUMNS.length;
  return parsed.engines.flatMap((engine, e) => {
    const last = engine.cycles[engine.cycles.length - 1]!;
    const end = rulAtEnd ? rulAtEnd[e]! : 0;
    return engine.cycles.map((cycle, k) => {
      const readings: Record<string, number> = {};
      CMAPSS_VALUE_COLUMNS.forEach((name, i) => {
        readings[name] = engine.values[k * width + i]!;
      });
      return { file, unit: engine.unit, cycle, rul: end + (last - cycle), readings };
    });
  });
}

/** Fit: cycles 1–30 of every training engine. Evaluate: every cycle of every test engine. */
export function cmapssSplit(
  paths: { train: string; test: string; rul: string } = {
    train: CMAPSS_TRAIN_FD001,
    test: CMAPSS_TEST_FD001,
    rul: CMAPSS_RUL_FD001,
  },
): CmapssSplit {
  const train = cmapssRows(paths.train, 'train');
  const test = cmapssRows(paths.test, 'test', readRul(paths.rul));
  return { fit: train.filter((r) => r.cycle <= 30), evaluate: test };
}

export interface CmapssOutOfSample {
  readonly fitEngines: number;
  readonly fitRows: number;
  readonly testEngines: number;
  /** Test cycles with RUL ≤ 30 (positives) and RUL > 125 (negatives). */
  readonly positives: number;
  readonly negatives: number;
  readonly auc: number;
  /** Share of RUL > 125 cycles scoring ≥ 0.5. */
  readonly fprHealthy: number;
  /** Share of RUL ≤ 30 cycles scoring ≥ 0.5. */
  readonly detection: number;
}

export function evaluateCmapssOutOfSample(c: Candidate, split: CmapssSplit = cmapssSplit()): CmapssOutOfSample {
  const b = fitBaseline(
    c.method,
    TURBOFAN,
    split.fit.map((r) => r.readings),
    fitOptions(c, 'cmapss train engines', split.fit.map((r) => r.unit)),
  );
  const rows = split.evaluate;
  const scored = scoreStream(
    b,
    rows.map((r) => r.readings),
    rows.map((r) => r.unit),
  ).map((s) => s.score);
  const pos = scored.filter((_, i) => rows[i]!.rul <= 30);
  const neg = scored.filter((_, i) => rows[i]!.rul > 125);
  return {
    fitEngines: new Set(split.fit.map((r) => r.unit)).size,
    fitRows: split.fit.length,
    testEngines: new Set(rows.map((r) => r.unit)).size,
    positives: pos.length,
    negatives: neg.length,
    auc: auc(pos, neg),
    fprHealthy: rate(neg.map((s) => s >= THRESHOLD)),
    detection: rate(pos.map((s) => s >= THRESHOLD)),
  };
}

// ---------------------------------------------------------------- Azure PdM: up to a cut date → after it

export interface AzureSplit {
  /** First instant after the fitting period (epoch ms): 00:00 UTC of the day after `trainUntil`. */
  readonly cut: number;
  /** Indices into `data.hours` of the healthy hours the baseline is fitted on (all before `cut`). */
  readonly fit: readonly number[];
  /** Indices into `data.hours` of the hours measured (all at or after `cut`). */
  readonly evaluate: readonly number[];
}

/** Parses `YYYY-MM-DD` as a UTC day. */
export function parseDay(day: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  const t = m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : Number.NaN;
  if (!m || !Number.isFinite(t) || new Date(t).toISOString().slice(0, 10) !== day) {
    throw new OutOfSampleSplitError(`expected a date as YYYY-MM-DD, got "${day}"`);
  }
  return t;
}

/**
 * Fit: hours up to the end of `trainUntil` that are healthy by failures known by then: an hour counts
 * only if its 7-day look-ahead ends before the cut, so a failure after the cut never decides whether a
 * fitting hour is healthy. Evaluate: every hour from the cut on.
 */
export function azureSplit(data: AzureData, trainUntil: string = DEFAULT_TRAIN_UNTIL): AzureSplit {
  const cut = parseDay(trainUntil) + DAY;
  const first = data.hours[0]?.ts ?? Number.NaN;
  const last = data.hours[data.hours.length - 1]?.ts ?? Number.NaN;
  if (!(cut - HEALTHY_LOOKAHEAD > first && cut <= last)) {
    throw new OutOfSampleSplitError(
      `--train-until ${trainUntil} leaves no fitting or no evaluation data: the slice runs ` +
        `${new Date(first).toISOString()} → ${new Date(last).toISOString()}, and fitting needs 7 days before the cut`,
    );
  }
  const known = data.failures.filter((f) => f.ts < cut);
  const labels = labelAzure(data.hours, known);
  const fit: number[] = [];
  const evaluate: number[] = [];
  data.hours.forEach((h, i) => {
    if (h.ts >= cut) evaluate.push(i);
    else if (h.ts + HEALTHY_LOOKAHEAD < cut && labels[i]!.healthy) fit.push(i);
  });
  return { cut, fit, evaluate };
}

export interface AzureComponentOutOfSample {
  readonly component: string;
  /** Failures of this component after the cut. */
  readonly failures: number;
  readonly auc: number;
  readonly detectionRate: number;
  /** Among the 24 h before those failures: the top contributor is the catalog's sensor for the component. */
  readonly top1Catalog: number;
}

export interface AzureOutOfSample {
  readonly trainUntil: string;
  readonly fitRows: number;
  readonly evaluatedHours: number;
  /** Share of healthy hours after the cut (no failure within 7 days) scoring ≥ 0.5. */
  readonly healthyFpr: number;
  readonly components: readonly AzureComponentOutOfSample[];
  readonly meanAuc: number;
}

export function evaluateAzureOutOfSample(
  c: Candidate,
  data: AzureData,
  trainUntil: string = DEFAULT_TRAIN_UNTIL,
): AzureOutOfSample {
  const split = azureSplit(data, trainUntil);
  // The EWMA restarts wherever the fitting hours are not consecutive in the same machine's stream.
  const segments: number[] = [];
  let segment = 0;
  split.fit.forEach((index, k) => {
    const prev = k > 0 ? split.fit[k - 1]! : -2;
    if (index !== prev + 1 || data.hours[index]!.machineId !== data.hours[prev]?.machineId) segment++;
    segments.push(segment);
  });
  const b = fitBaseline(
    c.method,
    INDUSTRIAL_MACHINE,
    split.fit.map((i) => data.hours[i]!.readings),
    fitOptions(c, `azure up to ${trainUntil}`, segments),
  );
  // Each machine's stream is scored from its start, so the EWMA is warm at the cut; only hours after
  // the cut are counted, and the baseline never saw them.
  const scored = scoreStream(
    b,
    data.hours.map((h) => h.readings),
    data.hours.map((h) => h.machineId),
  );
  const labels = labelAzure(data.hours, data.failures);
  const after = split.evaluate;
  const healthy = after.filter((i) => labels[i]!.healthy).map((i) => scored[i]!.score >= THRESHOLD);
  const rest = after.filter((i) => labels[i]!.failing === null).map((i) => scored[i]!.score);
  const machines = new Set(data.hours.map((h: AzureHour) => h.machineId));
  const end = data.hours[data.hours.length - 1]!.ts;
  const components = ['comp1', 'comp2', 'comp3', 'comp4'].map((component): AzureComponentOutOfSample => {
    const pos = after.filter((i) => labels[i]!.failing === component).map((i) => scored[i]!);
    return {
      component,
      failures: data.failures.filter(
        (f) => f.component === component && machines.has(f.machineId) && f.ts > split.cut && f.ts <= end + HOUR,
      ).length,
      auc: auc(
        pos.map((r) => r.score),
        rest,
      ),
      detectionRate: rate(pos.map((r) => r.score >= THRESHOLD)),
      top1Catalog: rate(pos.map((r) => r.top === AZURE_CATALOG_SENSOR[component])),
    };
  });
  return {
    trainUntil,
    fitRows: split.fit.length,
    evaluatedHours: after.length,
    healthyFpr: rate(healthy),
    components,
    meanAuc: mean(components.map((x) => x.auc).filter(Number.isFinite)),
  };
}

// ---------------------------------------------------------------- simulated pump: fit seeds → other seeds

export interface SimulatedOutOfSample extends SimulatedReport {
  readonly fitSeeds: readonly number[];
  readonly healthySeeds: readonly number[];
  readonly faultSeeds: readonly number[];
  readonly meanAuc: number;
}

export function evaluateSimulatedOutOfSample(c: Candidate): SimulatedOutOfSample {
  const r = evaluateSimulated(c);
  return {
    ...r,
    fitSeeds: SIM_FIT_SEEDS,
    healthySeeds: SIM_HEALTHY_SEEDS,
    faultSeeds: SIM_FAULT_SEEDS,
    meanAuc: mean(r.faults.map((f) => f.auc).filter(Number.isFinite)),
  };
}

// ---------------------------------------------------------------- together

export interface OutOfSampleReport {
  readonly candidate: string;
  readonly cmapss: CmapssOutOfSample;
  readonly azure: AzureOutOfSample;
  readonly simulated: SimulatedOutOfSample;
}

export interface OutOfSampleOptions {
  readonly candidates: readonly Candidate[];
  readonly azure: AzureData;
  /** @default DEFAULT_TRAIN_UNTIL */
  readonly trainUntil?: string;
  readonly cmapss?: CmapssSplit;
}

export function evaluateOutOfSample(options: OutOfSampleOptions): OutOfSampleReport[] {
  const cmapss = options.cmapss ?? cmapssSplit();
  return options.candidates.map((c) => ({
    candidate: candidateLabel(c),
    cmapss: evaluateCmapssOutOfSample(c, cmapss),
    azure: evaluateAzureOutOfSample(c, options.azure, options.trainUntil),
    simulated: evaluateSimulatedOutOfSample(c),
  }));
}

const f2 = (v: number) => (Number.isFinite(v) ? v.toFixed(2) : '  - ');
const f3 = (v: number) => (Number.isFinite(v) ? v.toFixed(3) : '  -  ');

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => `| ${r.map((v, i) => v.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

export function formatOutOfSample(reports: readonly OutOfSampleReport[]): string {
  const first = reports[0];
  if (!first) return 'no candidates';
  const out: string[] = [];
  out.push('OUT OF SAMPLE: every baseline is measured on data it was not fitted on.\n');
  out.push(
    `(c) C-MAPSS FD001: fitted on cycles 1–30 of the ${first.cmapss.fitEngines} training engines; measured on the ` +
      `${first.cmapss.testEngines} test engines, ${first.cmapss.positives} cycles with RUL ≤ 30 against ` +
      `${first.cmapss.negatives} with RUL > 125\n`,
  );
  out.push(
    table(
      ['candidate', 'AUC', 'FPR (RUL > 125)', 'det (RUL ≤ 30)'],
      reports.map((r) => [r.candidate, f3(r.cmapss.auc), f3(r.cmapss.fprHealthy), f2(r.cmapss.detection)]),
    ),
  );
  out.push(
    `\n(b) Azure PdM: fitted on ${first.azure.fitRows} healthy hours up to ${first.azure.trainUntil}; measured on the ` +
      `${first.azure.evaluatedHours} hours after it (24 h before a failure vs the rest): AUC / detection / top1 = catalog sensor; ` +
      `failures after the cut: ${first.azure.components.map((x) => `${x.component} ${x.failures}`).join(', ')}\n`,
  );
  out.push(
    table(
      ['candidate', 'healthy FPR', 'comp1', 'comp2', 'comp3', 'comp4', 'mean AUC'],
      reports.map((r) => [
        r.candidate,
        f3(r.azure.healthyFpr),
        ...r.azure.components.map((x) => `${f3(x.auc)} / ${f2(x.detectionRate)} / ${f2(x.top1Catalog)}`),
        f3(r.azure.meanAuc),
      ]),
    ),
  );
  out.push(
    `\n(a) Simulated pump: fitted on seeds ${first.simulated.fitSeeds[0]}–${first.simulated.fitSeeds.at(-1)}; healthy FPR on seeds ` +
      `${first.simulated.healthySeeds[0]}–${first.simulated.healthySeeds.at(-1)}, faults on ${first.simulated.faultSeeds.length} seeds ≥ ` +
      `${Math.min(...first.simulated.faultSeeds)}: AUC / detection / top-1 per fault kind\n`,
  );
  out.push(
    table(
      ['candidate', 'healthy FPR', ...first.simulated.faults.map((f) => f.fault), 'mean AUC'],
      reports.map((r) => [
        r.candidate,
        f3(r.simulated.healthyFpr),
        ...r.simulated.faults.map((f) => `${f3(f.auc)} / ${f2(f.detectionRate)} / ${f2(f.top1)}`),
        f3(r.simulated.meanAuc),
      ]),
    ),
  );
  return out.join('\n');
}
