/**
 * Held-out turbofan replay: retrains the turbofan predictors and the turbofan anomaly baseline without
 * some C-MAPSS training engines, builds a bundle from them in a temporary folder, replays the held-out
 * engines cycle by cycle through the whole local pipeline (MQTT → rule bridge → clean → features →
 * twins → EventBridge → SNS) and scores the alerts against each engine's end of life. Training engines
 * run to failure, so a held-out one's end of life (its last cycle) is known, yet no model saw it.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TwinHealthChangedDetail } from '../../lambdas/core/alerts/policy.ts';
import { defaultBaselineFor } from '../../lambdas/core/anomaly/index.ts';
import type { AnomalyBaseline } from '../../lambdas/core/anomaly/types.ts';
import { TURBOFAN } from '../../lambdas/core/catalog/models.ts';
import type { AssetModel } from '../../lambdas/core/catalog/types.ts';
import { telemetryTopic } from '../../lambdas/core/contract/topics.ts';
import type { HealthState } from '../../lambdas/core/twin/health.ts';
import { defaultRiskPolicy } from '../../lambdas/core/twin/twin.ts';
import { CHOSEN } from '../../ml/anomaly/evaluate.ts';
import { fitBaseline } from '../../ml/anomaly/fit.ts';
import { writeBundle } from '../../ml/bundle/write.ts';
import { type CmapssEngine, engineEvents, parseCmapss } from '../../ml/datasets/cmapss.ts';
import { cmapssAsset, splitUnits, trainTurbofanPredictors } from '../../ml/train/turbofan.ts';
import type { RunSummary } from '../runtime/runtime.ts';
import { type ReplayProgress, ReplayInputError, runReplay } from './run.ts';

/** Where the data lives relative to the project root (tests and the CLI read it in place). */
export const DEFAULT_CMAPSS_DIR = join(import.meta.dirname, '..', '..', '..', 'shared', 'data', 'cmapss');

/** Cycles of each engine's start the anomaly baseline is fitted on (as `ml/anomaly/fit-defaults.ts`). */
export const HEALTHY_CYCLES = 30;

/** Held-out share when neither ids nor a fraction is given. */
export const DEFAULT_HOLDOUT_FRACTION = 0.2;

/**
 * Alerts at most this many cycles before the end of life count as true warnings, earlier ones as false
 * alerts: the twin's own RUL horizon, where RUL starts to count as risk.
 */
export const DEFAULT_HORIZON_CYCLES = defaultRiskPolicy('cycle').rulHorizon;

export interface ReplayCmapssOptions {
  /** Folder with `train_FD001.txt` (and the test files for the trainer's test metrics). @default ../shared/data/cmapss */
  readonly dataDir?: string;
  /** Held-out training engine ids, or a share of the engines in (0, 1) drawn with `seed`. @default 0.2 */
  readonly holdout?: readonly number[] | number;
  /** Seeds the held-out draw and the training. @default 1 */
  readonly seed?: number;
  /** False-alert horizon in cycles (see {@link DEFAULT_HORIZON_CYCLES}). @default 50 */
  readonly horizonCycles?: number;
  /** Progress lines (training, bundle, replay). */
  readonly log?: (line: string) => void;
  readonly onProgress?: (p: ReplayProgress) => void;
  /** Pipeline drain timeout after the last publish, ms. @default 900 000 */
  readonly drainTimeoutMs?: number;
  /** Early-stopping ceiling of the retrained models (quick checks only). @default the trainer's */
  readonly maxRounds?: number;
}

/** One held-out engine's outcome. */
export interface CmapssEngineScore {
  readonly unit: number;
  /** Its last cycle: the end of life. */
  readonly endOfLife: number;
  /** WARNING/CRITICAL escalations (asset or component scope). */
  readonly alerts: number;
  /** Whether one of them came at most `horizonCycles` before the end of life. */
  readonly preceded: boolean;
  /** End of life − cycle of the first escalation within the horizon; null when not preceded. */
  readonly leadCycles: number | null;
  /** Escalations more than `horizonCycles` before the end of life. */
  readonly falseAlerts: number;
  /** Cycle of the first escalation of any kind; null without one. */
  readonly firstAlertCycle: number | null;
}

export interface CmapssReplayResult {
  readonly dataset: string;
  readonly seed: number;
  readonly holdout: readonly number[];
  readonly trainingEngines: number;
  readonly horizonCycles: number;
  readonly engines: number;
  readonly preceded: number;
  readonly medianLeadCycles: number | null;
  readonly falseAlerts: number;
  /** WARNING/CRITICAL escalations in all. */
  readonly alerts: number;
  readonly perEngine: readonly CmapssEngineScore[];
  /** The held-out bundle's RUL predictor figures on the C-MAPSS test files (as `pdm evaluate cmapss`). */
  readonly rulMetrics: Readonly<Record<string, number>>;
  readonly published: { readonly telemetry: number; readonly accepted: number; readonly refused: number };
  readonly seconds: { readonly train: number; readonly publish: number; readonly total: number };
  readonly summary: RunSummary;
  readonly balanced: { readonly messages: boolean; readonly samples: boolean; readonly readings: boolean };
  readonly alertCounts: Readonly<Record<string, number>>;
  /** Every alert the local bus delivered. */
  readonly alertList: readonly TwinHealthChangedDetail[];
}

const RANK: Readonly<Record<HealthState, number>> = {
  NORMAL: 0,
  MAINTENANCE: 0,
  WATCH: 1,
  WARNING: 2,
  CRITICAL: 3,
};

/** An alert that raises the state to WARNING or CRITICAL. */
export function isEscalation(a: Pick<TwinHealthChangedDetail, 'from' | 'to'>): boolean {
  return RANK[a.to] >= RANK.WARNING && RANK[a.to] > RANK[a.from];
}

/** The held-out units: the given ids (checked), or a seeded share of `units`. */
export function chooseHoldout(units: readonly number[], holdout: readonly number[] | number, seed: number): number[] {
  if (typeof holdout === 'number') {
    if (!(holdout > 0 && holdout < 1)) throw new ReplayInputError(`holdout fraction must be in (0, 1), got ${holdout}`);
    return [...splitUnits(units, holdout, seed).valid].sort((a, b) => a - b);
  }
  const ids = [...new Set(holdout)].sort((a, b) => a - b);
  if (ids.length === 0) throw new ReplayInputError('holdout lists no engine');
  const unknown = ids.filter((u) => !units.includes(u));
  if (unknown.length > 0) throw new ReplayInputError(`no training engine ${unknown.join(', ')}`);
  if (ids.length >= units.length) throw new ReplayInputError('holdout leaves no engine to train on');
  return ids;
}

/** The turbofan baseline refitted on the first {@link HEALTHY_CYCLES} cycles of the given engines. */
export function fitTurbofanBaseline(engines: readonly CmapssEngine[], source: string, model: AssetModel = TURBOFAN): AnomalyBaseline {
  const rows: Record<string, number>[] = [];
  const segments: number[] = [];
  for (const e of engines) {
    for (const ev of engineEvents(e, HEALTHY_CYCLES)) {
      if (ev.kind !== 'sample') continue;
      rows.push({ ...ev.readings });
      segments.push(e.unit);
    }
  }
  const c = CHOSEN.turbofan;
  return fitBaseline(c.method, model, rows, {
    source,
    ewmaAlpha: c.ewmaAlpha,
    segments,
    ...(c.shrinkage === undefined ? {} : { shrinkage: c.shrinkage }),
  });
}

/** Scores the alerts of each held-out engine against its end of life. */
export function scoreCmapssAlerts(
  alerts: readonly TwinHealthChangedDetail[],
  endOfLife: ReadonlyMap<number, number>,
  horizonCycles: number,
): CmapssEngineScore[] {
  return [...endOfLife].map(([unit, eol]) => {
    const assetId = cmapssAsset(unit).assetId;
    const mine = alerts.filter((a) => a.assetId === assetId && isEscalation(a)).sort((a, b) => a.seq - b.seq);
    const inHorizon = mine.filter((a) => eol - a.seq >= 0 && eol - a.seq <= horizonCycles);
    return {
      unit,
      endOfLife: eol,
      alerts: mine.length,
      preceded: inHorizon.length > 0,
      leadCycles: inHorizon.length > 0 ? eol - inHorizon[0]!.seq : null,
      falseAlerts: mine.filter((a) => eol - a.seq > horizonCycles).length,
      firstAlertCycle: mine[0]?.seq ?? null,
    };
  });
}

function median(a: readonly number[]): number | null {
  if (a.length === 0) return null;
  const s = [...a].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Runs the held-out replay end to end; see the module comment. */
export async function replayCmapss(options: ReplayCmapssOptions = {}): Promise<CmapssReplayResult> {
  const dataDir = options.dataDir ?? DEFAULT_CMAPSS_DIR;
  const seed = options.seed ?? 1;
  const horizonCycles = options.horizonCycles ?? DEFAULT_HORIZON_CYCLES;
  if (!(Number.isInteger(horizonCycles) && horizonCycles > 0)) {
    throw new ReplayInputError(`horizon must be a positive number of cycles, got ${horizonCycles}`);
  }
  if (!(Number.isInteger(seed) && seed > 0)) throw new ReplayInputError(`seed must be a positive integer, got ${seed}`);
  const log = options.log ?? (() => {});
  const trainPath = join(dataDir, 'train_FD001.txt');
  let text: string;
  try {
    text = readFileSync(trainPath, 'utf8');
  } catch (e) {
    throw new ReplayInputError(`cannot read ${trainPath}: ${(e as Error).message}`);
  }
  const file = parseCmapss(text, trainPath);
  const units = file.engines.map((e) => e.unit);
  const holdout = chooseHoldout(units, options.holdout ?? DEFAULT_HOLDOUT_FRACTION, seed);
  const held = new Set(holdout);
  const kept = file.engines.filter((e) => !held.has(e.unit));
  const replayed = file.engines.filter((e) => held.has(e.unit));

  const t0 = performance.now();
  log(`held out engines ${holdout.join(',')}; refitting the anomaly baseline and training on ${kept.length} engines…`);
  const baseline = fitTurbofanBaseline(
    kept,
    `C-MAPSS train_FD001.txt cycles 1–${HEALTHY_CYCLES} of ${kept.length} engines (engines ${holdout.join(',')} held out)`,
  );
  const predictors = trainTurbofanPredictors({
    dataDir,
    seed,
    excludeUnits: holdout,
    baseline,
    ...(options.maxRounds !== undefined ? { maxRounds: options.maxRounds } : {}),
  });
  const trainSeconds = (performance.now() - t0) / 1000;
  const bundleDir = mkdtempSync(join(tmpdir(), 'pdm-cmapss-holdout-'));
  try {
    writeBundle(bundleDir, [predictors]);
    log(`bundle written to ${bundleDir} (${trainSeconds.toFixed(1)} s of training); replaying ${replayed.length} engines…`);
    const messages = replayed
      .flatMap((e) => {
        const asset = cmapssAsset(e.unit);
        const topic = telemetryTopic(asset.siteId, asset.assetId);
        return engineEvents(e).flatMap((ev) =>
          ev.kind === 'sample'
            ? [
                {
                  ts: ev.ts,
                  clientId: asset.assetId,
                  topic,
                  payload: JSON.stringify({ schema: 'pdm.telemetry.v1', assetId: asset.assetId, ts: ev.ts, seq: ev.seq, readings: ev.readings }),
                },
              ]
            : [],
        );
      })
      // Stable: each engine's cycles stay in order; engines interleave cycle by cycle.
      .sort((a, b) => a.ts - b.ts);
    const run = await runReplay({
      assets: replayed.map((e) => cmapssAsset(e.unit)),
      messages,
      modelDir: bundleDir,
      baselineFor: (m) => (m.id === TURBOFAN.id ? baseline : defaultBaselineFor(m)),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      ...(options.drainTimeoutMs !== undefined ? { drainTimeoutMs: options.drainTimeoutMs } : {}),
    });
    const endOfLife = new Map(replayed.map((e) => [e.unit, e.cycles[e.cycles.length - 1]!]));
    const perEngine = scoreCmapssAlerts(run.alerts, endOfLife, horizonCycles);
    const rul = predictors.predictors.find((p) => p.kind === 'rul');
    return {
      dataset: 'FD001',
      seed,
      holdout,
      trainingEngines: kept.length,
      horizonCycles,
      engines: perEngine.length,
      preceded: perEngine.filter((e) => e.preceded).length,
      medianLeadCycles: median(perEngine.flatMap((e) => (e.leadCycles === null ? [] : [e.leadCycles]))),
      falseAlerts: perEngine.reduce((n, e) => n + e.falseAlerts, 0),
      alerts: perEngine.reduce((n, e) => n + e.alerts, 0),
      perEngine,
      rulMetrics: rul?.metrics ?? {},
      published: { telemetry: messages.length, accepted: run.accepted, refused: run.refused },
      seconds: {
        train: Math.round(trainSeconds * 10) / 10,
        publish: run.seconds.publish,
        total: Math.round(((performance.now() - t0) / 1000) * 10) / 10,
      },
      summary: run.summary,
      balanced: run.balanced,
      alertCounts: run.alertCounts,
      alertList: run.alerts,
    };
  } finally {
    rmSync(bundleDir, { recursive: true, force: true });
  }
}
