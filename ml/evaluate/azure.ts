/**
 * Azure PdM time-split experiment on the stored slice (machines 1–20, Jan–Mar 2015). Every telemetry
 * hour is replayed through the product's feature code; labels come from PdM_failures. Protocol and
 * definitions: docs/azure-pdm.md.
 */
import { loadXgboostModel, predictBatch } from '../../lambdas/core/model/index.ts';
import {
  AZURE_EXCLUDED_FEATURES,
  AZURE_TARGETS,
  type AzureDesign,
  type AzureTarget,
  buildAzureDesign,
  designMatrix,
  errorCounts,
  failuresWithoutReplacement,
  HOUR_MS,
  loadAzure,
  rowsWhere,
} from '../datasets/azure.ts';
import { type TrainParams, train } from '../gbdt/index.ts';
import { averagePrecision, bestF1Threshold, metricsAt, rocAuc } from './metrics.ts';

export const AZURE_DEFAULT_DIR = '../shared/data/azure_pdm';

/** Cut points of the protocol (UTC). */
export const AZURE_SPLIT = {
  /** Test rows: t ≥ testFrom. Training rows: t ≤ testFrom − 24 h, so no training label sees the test period. */
  testFrom: Date.UTC(2015, 2, 1),
  /** Inside the training period: early stopping and thresholds on t ≥ validFrom, fitted on t ≤ validFrom − 24 h. */
  validFrom: Date.UTC(2015, 1, 8),
} as const;

export const AZURE_PARAMS: Partial<TrainParams> = {
  objective: 'binary:logistic',
  nRounds: 400,
  eta: 0.1,
  maxDepth: 4,
  minChildWeight: 1,
  earlyStoppingRounds: 40,
  evalMetric: 'logloss',
  seed: 0,
};

/** The product's feature subset: the engine's vector minus the recording artefacts. */
export function productFeatures(names: readonly string[]): string[] {
  const drop = new Set<string>(AZURE_EXCLUDED_FEATURES);
  return names.filter((n) => !drop.has(n));
}

export interface LeadTime {
  /** Failures whose full 24 h window lies in the test period. */
  readonly failures: number;
  /** Share with at least one positive prediction in the 24 h before the failure. */
  readonly detected24h: number;
  /** Mean hours from the first positive in the 24 h before a failure to the failure (detected ones). */
  readonly meanLeadHours24h: number | null;
  /** Share with a positive prediction in the 72 h before the failure (earlier alarms count). */
  readonly detected72h: number;
  readonly meanLeadHours72h: number | null;
}

export interface TargetResult {
  readonly target: AzureTarget;
  readonly threshold: number;
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
  readonly prAuc: number;
  readonly rocAuc: number;
  readonly testRows: number;
  readonly testPositives: number;
  readonly trainPositives: number;
  readonly trees: number;
  readonly leadTime: LeadTime;
  /** Always "no failure": precision undefined (reported 0), recall 0, F1 0. */
  readonly majority: { readonly precision: 0; readonly recall: 0; readonly f1: 0 };
  /** Flagging rows at random at the training prevalence: expected precision, recall and F1. */
  readonly random: { readonly precision: number; readonly recall: number; readonly f1: number };
}

export interface AzureVariant {
  readonly features: readonly string[];
  readonly targets: readonly TargetResult[];
  readonly macroF1Components: number;
}

export interface AzureResult {
  readonly dataset: 'azure_pdm';
  readonly dataDir: string;
  readonly sha256: string;
  readonly machines: number;
  readonly rows: { readonly train: number; readonly valid: number; readonly test: number; readonly all: number };
  readonly split: { readonly fitUntil: string; readonly validFrom: string; readonly trainUntil: string; readonly testFrom: string };
  readonly failuresWithoutMaintRecord: number;
  /** Product features only (what the shipped models use). */
  readonly product: AzureVariant;
  /** Product features plus 24 h counts of error1–5 from PdM_errors (not in the telemetry contract). */
  readonly withErrors: AzureVariant | null;
  readonly params: Readonly<Record<string, number | string>>;
}

export interface AzureOptions {
  /** @default AZURE_DEFAULT_DIR */
  readonly dataDir?: string;
  /** Also evaluate the "+errors" variant. @default true */
  readonly errors?: boolean;
  /** Restrict to these targets (tests). @default all of comp1–comp4 and any */
  readonly targets?: readonly AzureTarget[];
}

function leadTime(
  d: AzureDesign,
  target: AzureTarget,
  testRows: Uint32Array,
  scores: Float64Array,
  threshold: number,
  testFrom: number,
  testEnd: number,
): LeadTime {
  const positives = new Map<number, number[]>();
  testRows.forEach((r, i) => {
    if (scores[i]! < threshold) return;
    const list = positives.get(d.machine[r]!) ?? [];
    list.push(d.t[r]!);
    positives.set(d.machine[r]!, list);
  });
  const fails = d.failures.filter(
    (f) =>
      (target === 'any' || f.what === target) &&
      f.ts - 24 * HOUR_MS >= testFrom &&
      f.ts <= testEnd + HOUR_MS,
  );
  // `any`: simultaneous failures of two components on one machine are one event.
  const seen = new Set<string>();
  const events = fails.filter((f) => {
    const k = `${f.machineId}|${f.ts}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
  const lead = (lookback: number) => {
    const leads: number[] = [];
    for (const f of events) {
      const first = (positives.get(f.machineId) ?? []).find((t) => t >= f.ts - lookback * HOUR_MS && t < f.ts);
      if (first !== undefined) leads.push((f.ts - first) / HOUR_MS);
    }
    return {
      share: events.length === 0 ? 0 : leads.length / events.length,
      mean: leads.length === 0 ? null : leads.reduce((a, b) => a + b, 0) / leads.length,
    };
  };
  const l24 = lead(24);
  const l72 = lead(72);
  return {
    failures: events.length,
    detected24h: l24.share,
    meanLeadHours24h: l24.mean,
    detected72h: l72.share,
    meanLeadHours72h: l72.mean,
  };
}

function labelsOf(d: AzureDesign, target: AzureTarget, rows: Uint32Array): Float32Array {
  const lab = d.labels[target];
  return Float32Array.from(rows, (r) => lab[r]!);
}

/** Fits, thresholds and tests one target; the model is scored from its written JSON. */
function runTarget(
  d: AzureDesign,
  target: AzureTarget,
  columns: readonly string[],
  extra: readonly Float32Array[],
  parts: { fit: Uint32Array; valid: Uint32Array; train: Uint32Array; test: Uint32Array },
  testEnd: number,
): TargetResult {
  const names = [...columns, ...extra.map((_, i) => `error${i + 1}_count_24h`)];
  const f = names.length;
  const xFit = designMatrix(d, parts.fit, columns, extra);
  const xValid = designMatrix(d, parts.valid, columns, extra);
  const yFit = labelsOf(d, target, parts.fit);
  const yValid = labelsOf(d, target, parts.valid);
  // Stage 1: rounds and threshold from the time-based validation slice of the training period.
  const stage1 = train(
    { ...AZURE_PARAMS },
    { x: xFit, n: parts.fit.length, f, y: yFit },
    { x: xValid, n: parts.valid.length, f, y: yValid },
  );
  const rounds = stage1.bestIteration + 1;
  const validScores = predictBatch(loadXgboostModel(stage1.toXgboostJson()), xValid, parts.valid.length);
  const cut = bestF1Threshold(validScores, yValid);
  // Stage 2: refit on the whole training period with the chosen number of rounds.
  const yTrain = labelsOf(d, target, parts.train);
  const booster = train(
    { ...AZURE_PARAMS, nRounds: rounds, earlyStoppingRounds: undefined, eta: AZURE_PARAMS.eta ?? 0.1 },
    { x: designMatrix(d, parts.train, columns, extra), n: parts.train.length, f, y: yTrain, featureNames: names },
  );
  const model = loadXgboostModel(booster.toXgboostJson());
  const yTest = labelsOf(d, target, parts.test);
  const scores = predictBatch(model, designMatrix(d, parts.test, columns, extra), parts.test.length);
  const at = metricsAt(scores, yTest, cut.threshold);
  const trainPos = yTrain.reduce((a, v) => a + v, 0);
  const testPos = yTest.reduce((a, v) => a + v, 0);
  const piTrain = trainPos / parts.train.length;
  const piTest = testPos / parts.test.length;
  return {
    target,
    threshold: cut.threshold,
    precision: at.precision,
    recall: at.recall,
    f1: at.f1,
    prAuc: averagePrecision(scores, yTest),
    rocAuc: rocAuc(scores, yTest),
    testRows: parts.test.length,
    testPositives: testPos,
    trainPositives: trainPos,
    trees: rounds,
    leadTime: leadTime(d, target, parts.test, scores, cut.threshold, AZURE_SPLIT.testFrom, testEnd),
    majority: { precision: 0, recall: 0, f1: 0 },
    random: {
      precision: piTest,
      recall: piTrain,
      f1: piTest + piTrain === 0 ? 0 : (2 * piTest * piTrain) / (piTest + piTrain),
    },
  };
}

/** Runs the experiment (about 15–30 s on the shared machine). */
export function evaluateAzure(opts: AzureOptions = {}): AzureResult {
  const dataDir = opts.dataDir ?? AZURE_DEFAULT_DIR;
  const data = loadAzure(dataDir);
  const d = buildAzureDesign(data);
  const { testFrom, validFrom } = AZURE_SPLIT;
  const day = 24 * HOUR_MS;
  const parts = {
    fit: rowsWhere(d, (t) => t <= validFrom - day),
    valid: rowsWhere(d, (t) => t >= validFrom && t <= testFrom - day),
    train: rowsWhere(d, (t) => t <= testFrom - day),
    test: rowsWhere(d, (t) => t >= testFrom),
  };
  let testEnd = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < d.n; i++) if (d.t[i]! > testEnd) testEnd = d.t[i]!;
  const targets = opts.targets ?? AZURE_TARGETS;
  const columns = productFeatures(d.names);
  const variant = (extra: readonly Float32Array[]): AzureVariant => {
    const res = targets.map((c) => runTarget(d, c, columns, extra, parts, testEnd));
    const comps = res.filter((r) => r.target !== 'any');
    return {
      features: [...columns, ...extra.map((_, i) => `error${i + 1}_count_24h`)],
      targets: res,
      macroF1Components: comps.length === 0 ? Number.NaN : comps.reduce((a, r) => a + r.f1, 0) / comps.length,
    };
  };
  const product = variant([]);
  let withErrors: AzureVariant | null = null;
  if (opts.errors !== false) {
    // Error counts are computed per machine over (t − 24 h, t], so they are point-in-time too.
    const counts = Array.from({ length: 5 }, () => new Float32Array(d.n));
    const byMachine = new Map<number, number[]>();
    for (let i = 0; i < d.n; i++) {
      const list = byMachine.get(d.machine[i]!) ?? [];
      list.push(i);
      byMachine.set(d.machine[i]!, list);
    }
    for (const [id, rows] of byMachine) {
      const per = errorCounts(
        rows.map((r) => d.t[r]!),
        data.errors.filter((e) => e.machineId === id),
        day,
      );
      per.forEach((col, k) => {
        rows.forEach((r, j) => {
          counts[k]![r] = col[j]!;
        });
      });
    }
    withErrors = variant(counts);
  }
  const iso = (t: number) => new Date(t).toISOString();
  return {
    dataset: 'azure_pdm',
    dataDir,
    sha256: data.sha256,
    machines: new Set(d.machine).size,
    rows: { train: parts.train.length, valid: parts.valid.length, test: parts.test.length, all: d.n },
    split: {
      fitUntil: iso(validFrom - day),
      validFrom: iso(validFrom),
      trainUntil: iso(testFrom - day),
      testFrom: iso(testFrom),
    },
    failuresWithoutMaintRecord: failuresWithoutReplacement(data).length,
    product,
    withErrors,
    params: Object.fromEntries(
      Object.entries(AZURE_PARAMS).filter(([, v]) => typeof v === 'number' || typeof v === 'string'),
    ) as Record<string, number | string>,
  };
}

const f3 = (v: number) => v.toFixed(3);

/** Human-readable report of {@link evaluateAzure}'s result. */
export function formatAzureReport(r: AzureResult): string {
  const lines = [
    `Azure PdM slice: ${r.machines} machines, rows train/valid-inside-train/test ${r.rows.train}/${r.rows.valid}/${r.rows.test}`,
    `split: fit ≤ ${r.split.fitUntil}, valid ${r.split.validFrom}…, train ≤ ${r.split.trainUntil}, test ≥ ${r.split.testFrom}`,
  ];
  const table = (name: string, v: AzureVariant) => {
    lines.push(`${name} (${v.features.length} features), macro-F1 comp1–4 ${f3(v.macroF1Components)}`);
    lines.push('target  thr    P      R      F1     PR-AUC ROC-AUC pos/rows   fails det24 lead24h det72 lead72h  randomF1');
    for (const t of v.targets) {
      const l = t.leadTime;
      lines.push(
        [
          t.target.padEnd(6),
          f3(t.threshold),
          f3(t.precision),
          f3(t.recall),
          f3(t.f1),
          f3(t.prAuc),
          f3(t.rocAuc),
          `${t.testPositives}/${t.testRows}`.padEnd(10),
          String(l.failures).padEnd(5),
          f3(l.detected24h),
          (l.meanLeadHours24h === null ? '-' : l.meanLeadHours24h.toFixed(1)).padEnd(7),
          f3(l.detected72h),
          (l.meanLeadHours72h === null ? '-' : l.meanLeadHours72h.toFixed(1)).padEnd(7),
          f3(t.random.f1),
        ].join(' '),
      );
    }
  };
  table('product features', r.product);
  if (r.withErrors) table('product + error counts', r.withErrors);
  return lines.join('\n');
}
