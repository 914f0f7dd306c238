/**
 * Held-out replay of the Azure PdM slice: what a new user should believe about the alerts.
 *
 * 1. Retrains every `industrial-machine` predictor (component failure, any failure, RUL) on data up to
 *    the cut only: rows whose 24 h label window closes by the cut, with calibration and alert thresholds
 *    chosen on the last three weeks before it (ml/train/industrial-machine.ts).
 * 2. Refits the anomaly baseline on healthy hours known to be healthy at the cut (hours at least 7 days
 *    before it with no failure in the 7 days after them, failures up to the cut only).
 * 3. Writes that bundle to a temporary folder and replays the slice through the whole local pipeline
 *    with it, starting {@link WARM_START_DAYS} days before the cut so the twins' rolling windows are full
 *    when scoring starts (a deployed pipeline has been running too), to the end of the slice.
 * 4. Scores only what happens after the cut: failures after it, and the alerts raised after it.
 * Nothing after the cut reaches training, calibration, thresholds or the baseline; a test checks it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultBaselineFor } from '../../lambdas/core/anomaly/defaults.ts';
import type { AnomalyBaseline } from '../../lambdas/core/anomaly/types.ts';
import { INDUSTRIAL_MACHINE } from '../../lambdas/core/catalog/index.ts';
import type { AlertThresholds } from '../../lambdas/core/model/decision.ts';
import { azureHealthy, CHOSEN } from '../../ml/anomaly/evaluate.ts';
import { fitBaseline } from '../../ml/anomaly/fit.ts';
import { writeBundle } from '../../ml/bundle/index.ts';
import { type AzureData, HOUR_MS, loadAzure, telemetryMachines } from '../../ml/datasets/azure.ts';
import { MIN_TRAIN_DAYS, trainIndustrialMachineWithReport, VALID_DAYS } from '../../ml/train/industrial-machine.ts';
import { type AzureReplayResult, DEFAULT_AZURE_DIR, ReplayInputError, replayAzure } from './azure.ts';
import { type ReplayScore, scoreReplay, type ScoredFailure } from './score.ts';

/** Days replayed before the cut to fill the twins' windows (the longest is 7 days). */
export const WARM_START_DAYS = 14;
const DAY = 24 * HOUR_MS;
/** Healthy hours for the baseline: no failure of the machine within this long after them. */
const HEALTHY_GAP_MS = 7 * DAY;

export interface HeldOutOptions {
  /** The cut, epoch ms: nothing at or after it is used for training. */
  readonly trainUntil: number;
  readonly dataDir?: string;
  readonly machines?: readonly number[];
  readonly horizonMs?: number;
  readonly onProgress?: (line: string) => void;
}

/** The figures a new user checks, and the thresholds that produced them. */
export interface HeldOutReport {
  readonly mode: 'held-out';
  readonly trainUntil: string;
  /** Replayed window: warm-up start, cut, end (ISO-8601). */
  readonly window: { readonly replayFrom: string; readonly scoredFrom: string; readonly last: string };
  /** Failures after the cut (replayed machines). */
  readonly failures: number;
  /** Failures with a WARNING or CRITICAL alert on that component 1–72 h before. */
  readonly preceded: number;
  readonly medianLeadHours: number | null;
  /** WARNING/CRITICAL component alerts after the cut with no failure of that component within 72 h. */
  readonly falseAlerts: number;
  /** WARNING/CRITICAL component alerts after the cut. */
  readonly alerts: number;
  /** The same, scored per machine instead of per component (any alert before any failure). */
  readonly loose: ReplayScore['loose'];
  readonly byComponent: ReplayScore['byComponent'];
  readonly perFailure: ReplayScore['perFailure'];
  /** Per predictor: alert thresholds chosen on validation data before the cut, and validation figures. */
  readonly thresholds: Readonly<Record<string, AlertThresholds & { readonly validation: Record<string, number> }>>;
  readonly training: { readonly rows: number; readonly validDays: number; readonly baselineHours: number };
  readonly accounting: { readonly balanced: AzureReplayResult['balanced']; readonly published: AzureReplayResult['published'] };
  readonly seconds: { readonly train: number; readonly replay: number };
}

export class TrainUntilError extends Error {
  override readonly name: string = 'TrainUntilError';
}

/** Parses `YYYY-MM-DD` (UTC midnight) or a full ISO-8601 time. */
export function parseTrainUntil(value: string): number {
  const t = /^\d{4}-\d{2}-\d{2}$/.test(value) ? Date.parse(`${value}T00:00:00Z`) : Date.parse(value);
  if (!Number.isFinite(t)) throw new TrainUntilError(`--train-until: "${value}" is not a date (YYYY-MM-DD or ISO-8601)`);
  return t;
}

/**
 * The anomaly baseline of the industrial machine fitted only on what is known at `cut`: hours at least
 * 7 days before it whose next 7 days hold no failure (failures up to the cut).
 */
export function heldOutBaseline(data: AzureData, cut: number, machines: readonly number[]): { baseline: AnomalyBaseline; hours: number } {
  const ids = new Set(machines);
  const hours = data.telemetry
    .filter((r) => ids.has(r.machineId) && r.ts <= cut - HEALTHY_GAP_MS)
    .map((r) => ({ machineId: r.machineId, ts: r.ts, readings: { ...r.readings } }))
    .sort((a, b) => a.machineId - b.machineId || a.ts - b.ts);
  const failures = data.failures
    .filter((f) => ids.has(f.machineId) && f.ts <= cut)
    .map((f) => ({ machineId: f.machineId, ts: f.ts, component: f.what }));
  const healthy = azureHealthy({ hours, failures });
  const c = CHOSEN['industrial-machine'];
  const iso = (t: number) => new Date(t).toISOString().slice(0, 16).replace('T', ' ');
  const baseline = fitBaseline(c.method, INDUSTRIAL_MACHINE, healthy.rows, {
    source: `Azure PdM telemetry machines ${machines.join(',')}, healthy hours ≤ ${iso(cut - HEALTHY_GAP_MS)} (held out after ${iso(cut)})`,
    ewmaAlpha: c.ewmaAlpha,
    segments: healthy.segments,
    ...(c.shrinkage === undefined ? {} : { shrinkage: c.shrinkage }),
  });
  return { baseline, hours: healthy.rows.length };
}

/** Runs the held-out replay; see the module comment. */
export async function replayAzureHeldOut(options: HeldOutOptions): Promise<HeldOutReport> {
  const dataDir = options.dataDir ?? DEFAULT_AZURE_DIR;
  const data = loadAzure(dataDir);
  const machines = [...(options.machines ?? telemetryMachines(data))].sort((a, b) => a - b);
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  for (const r of data.telemetry) {
    first = Math.min(first, r.ts);
    last = Math.max(last, r.ts);
  }
  const cut = options.trainUntil;
  const earliest = first + MIN_TRAIN_DAYS * DAY;
  if (!(cut >= earliest && cut <= last - DAY)) {
    throw new TrainUntilError(
      `--train-until must leave ${MIN_TRAIN_DAYS} days of data before it and a day after it: ` +
        `between ${new Date(earliest).toISOString().slice(0, 10)} and ${new Date(last - DAY).toISOString().slice(0, 10)}`,
    );
  }
  const log = options.onProgress ?? (() => {});
  const t0 = performance.now();
  log(`training industrial-machine predictors on data before ${new Date(cut).toISOString()}`);
  const trained = trainIndustrialMachineWithReport({ dataDir, trainUntil: cut });
  const { baseline, hours } = heldOutBaseline(data, cut, machines);
  const dir = mkdtempSync(join(tmpdir(), 'pdm-heldout-'));
  try {
    writeBundle(dir, [trained.predictors]);
    const trainSeconds = (performance.now() - t0) / 1000;
    log(`bundle written to ${dir}; replaying from ${new Date(cut - WARM_START_DAYS * DAY).toISOString()}`);
    const t1 = performance.now();
    const result = await replayAzure({
      dataDir,
      machines,
      from: cut - WARM_START_DAYS * DAY,
      modelDir: dir,
      baselineFor: (m) => (m.id === INDUSTRIAL_MACHINE.id ? baseline : defaultBaselineFor(m)),
      onProgress: (p) => log(`replay ${p.published}/${p.total} messages, data time ${p.clock}`),
    });
    const replaySeconds = (performance.now() - t1) / 1000;
    const ids = new Set(machines);
    const judge: ScoredFailure[] = data.failures
      .filter((f) => ids.has(f.machineId))
      .map((f) => ({ assetId: `machine-${f.machineId}`, component: f.what, ts: f.ts }));
    const score = scoreReplay(result.alerts, judge, {
      ...(options.horizonMs !== undefined ? { horizonMs: options.horizonMs } : {}),
      from: cut,
      to: last + 1,
    });
    const thresholds: Record<string, AlertThresholds & { validation: Record<string, number> }> = {};
    for (const p of trained.predictors.predictors) {
      if (!p.alertThresholds) continue;
      const m = p.metrics;
      thresholds[p.name] = {
        ...p.alertThresholds,
        validation: {
          prAuc: round3(m.prAuc ?? Number.NaN),
          failures: m.validFailures ?? 0,
          caught: m.validFailuresCaught ?? 0,
          alerts: m.validAlerts ?? 0,
          falseAlerts: m.validFalseAlerts ?? 0,
        },
      };
    }
    return {
      mode: 'held-out',
      trainUntil: new Date(cut).toISOString(),
      window: {
        replayFrom: result.window.first,
        scoredFrom: new Date(cut).toISOString(),
        last: result.window.last,
      },
      failures: score.failures,
      preceded: score.strict.preceded,
      medianLeadHours: score.strict.leadTime.medianH,
      falseAlerts: score.strict.falseAlerts,
      alerts: score.strict.alerts,
      loose: score.loose,
      byComponent: score.byComponent,
      perFailure: score.perFailure,
      thresholds,
      training: {
        rows: trained.predictors.predictors[0]?.trainingRows ?? 0,
        validDays: VALID_DAYS,
        baselineHours: hours,
      },
      accounting: { balanced: result.balanced, published: result.published },
      seconds: { train: round1(trainSeconds), replay: round1(replaySeconds) },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const round1 = (v: number) => Math.round(v * 10) / 10;
const round3 = (v: number) => Math.round(v * 1000) / 1000;

export { ReplayInputError };
