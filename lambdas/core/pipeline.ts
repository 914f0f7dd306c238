/**
 * The whole core pipeline for one batch of raw device messages, in process: clean each message,
 * group clean input per asset in arrival order, fold it into that asset's twin (phase 1), score the
 * feature rows through an injected scorer, fold the predictions (phase 2).
 *
 * The Lambda functions split the same steps across two functions and a stream; the benchmark, the
 * `npm start` demo and model evaluation run them here. Pure: twins come in and go out as values.
 */
import type { TwinHealthChangedDetail } from './alerts/policy.ts';
import { defaultAlertPolicy } from './alerts/policy.ts';
import type { AnomalyBaseline } from './anomaly/index.ts';
import { findAssetModel } from './catalog/index.ts';
import type { AssetLookup, AssetModel } from './catalog/types.ts';
import { downtimeHoursOf, warmupOf } from './catalog/types.ts';
import type { Counts, SampleCounts } from './cleaning/index.ts';
import { addCounts, cleanMessage, emptyCounts } from './cleaning/index.ts';
import type { QuarantineRecord } from './cleaning/reasons.ts';
import { decisionsOf, type ModelBundle } from './model/bundle.ts';
import type { ModelDecisions } from './model/decision.ts';
import { defaultHealthPolicy } from './twin/health.ts';
import type { FeatureRow, Policies, Prediction, Twin, TwinInput, TwinTransition } from './twin/twin.ts';
import { completeBatch, defaultRiskPolicy, prepareBatch } from './twin/twin.ts';

export interface RawMessage {
  readonly topic: string;
  readonly payload: string | Uint8Array;
  readonly messageId: string;
  readonly receivedAt: number;
}

/** Scores feature rows of one asset; returns one prediction (or null: no model) per row. */
export type RowScorer = (model: AssetModel, twin: Twin, rows: readonly FeatureRow[]) => (Prediction | null)[];

export const noModelScorer: RowScorer = (_model, _twin, rows) => rows.map(() => null);

export interface PipelineContext {
  readonly lookupAsset: AssetLookup;
  readonly baselineFor: (model: AssetModel) => AnomalyBaseline;
  readonly scorer?: RowScorer;
  readonly policiesFor?: (model: AssetModel) => Policies;
}

export function defaultPolicies(model: AssetModel, decisions?: ModelDecisions): Policies {
  const downtime = downtimeHoursOf(model);
  return {
    health: defaultHealthPolicy(model.clock),
    alert: defaultAlertPolicy(model.clock, model.downtimeCostPerHour, {
      unplannedDowntimeHours: downtime.unplanned,
      plannedDowntimeHours: downtime.planned,
    }),
    risk: { ...defaultRiskPolicy(model.clock), warmup: warmupOf(model), ...(decisions ? { decisions } : {}) },
  };
}

/** Policies whose risk decisions follow each asset model's classifiers' thresholds in the bundle. */
export function bundlePolicies(bundle: ModelBundle): (model: AssetModel) => Policies {
  const cache = new Map<string, Policies>();
  return (model) => {
    let p = cache.get(model.id);
    if (p === undefined) {
      p = defaultPolicies(model, decisionsOf(bundle.models.get(model.id)));
      cache.set(model.id, p);
    }
    return p;
  };
}

export interface PipelineResult {
  /** Twins that changed, by asset id. */
  readonly twins: ReadonlyMap<string, Twin>;
  readonly transitions: readonly (TwinTransition & { assetId: string })[];
  readonly alerts: readonly TwinHealthChangedDetail[];
  readonly quarantine: readonly QuarantineRecord[];
  /** Cleaning counts with screening quarantines folded in: accepted + quarantined = received. */
  readonly counts: Counts;
  readonly rows: number;
}

/**
 * Processes a batch of raw messages against the given twins (not modified). Counting: a sample that
 * cleaning passed but screening quarantined (duplicate, late, flatlined to nothing) moves from clean
 * to quarantined, so the totals still add up.
 */
export function processMessages(
  messages: readonly RawMessage[],
  twins: ReadonlyMap<string, Twin>,
  ctx: PipelineContext,
): PipelineResult {
  let counts = emptyCounts();
  const quarantine: QuarantineRecord[] = [];
  const perAsset = new Map<string, TwinInput[]>();
  const cleanPerMessage = new Map<string, number>();
  const cleanEventsPerMessage = new Map<string, number>();
  for (const message of messages) {
    const cleaned = cleanMessage(message, { lookupAsset: ctx.lookupAsset });
    counts = addCounts(counts, cleaned.counts);
    quarantine.push(...cleaned.quarantine);
    if (cleaned.samples.length > 0) cleanPerMessage.set(message.messageId, cleaned.samples.length);
    for (const sample of cleaned.samples) push(perAsset, sample.assetId, { kind: 'sample', sample });
    for (const event of cleaned.maintenance) push(perAsset, event.assetId, { kind: 'maintenance', event });
    if (cleaned.events.length > 0) cleanEventsPerMessage.set(message.messageId, cleaned.events.length);
    for (const event of cleaned.events) push(perAsset, event.assetId, { kind: 'event', event });
  }
  const out = new Map<string, Twin>();
  const transitions: (TwinTransition & { assetId: string })[] = [];
  const alerts: TwinHealthChangedDetail[] = [];
  let rows = 0;
  for (const [assetId, inputs] of perAsset) {
    const asset = ctx.lookupAsset(assetId);
    const model = asset ? findAssetModel(asset.modelId) : undefined;
    if (!asset || !model) continue; // cleaning already quarantined these; unreachable for clean input
    // Feature vectors exist for model scoring; without a scorer only the feature state is maintained.
    const twinCtx = { asset, model, baseline: ctx.baselineFor(model), vectors: ctx.scorer !== undefined };
    const prepared = prepareBatch(twins.get(assetId), inputs, twinCtx);
    const predictions = (ctx.scorer ?? noModelScorer)(model, prepared.twin, prepared.rows);
    const done = completeBatch(prepared, predictions, twinCtx, (ctx.policiesFor ?? defaultPolicies)(model));
    rows += prepared.rows.length;
    quarantine.push(...prepared.quarantine);
    counts = foldScreening(counts, prepared.screenCounts, prepared.quarantine, cleanPerMessage);
    quarantine.push(...prepared.eventQuarantine);
    counts = foldEventScreening(counts, prepared.eventQuarantine, cleanEventsPerMessage);
    if (done.changed) out.set(assetId, done.twin);
    for (const t of done.transitions) transitions.push({ ...t, assetId });
    alerts.push(...done.alerts);
  }
  return { twins: out, transitions, alerts, quarantine, counts, rows };
}

/**
 * As {@link foldScreening}, for device events: an event screening quarantined (a duplicate or too-old
 * event seq) moves from clean to quarantined, and a message none of whose events survived moves from
 * accepted to quarantined.
 */
function foldEventScreening(
  counts: Counts,
  screened: readonly QuarantineRecord[],
  cleanPerMessage: Map<string, number>,
): Counts {
  if (screened.length === 0 || counts.events === undefined) return counts;
  return {
    ...counts,
    messages: moveEmptied(counts.messages, screened, cleanPerMessage),
    events: {
      received: counts.events.received,
      clean: counts.events.clean - screened.length,
      quarantined: counts.events.quarantined + screened.length,
    },
  };
}

/**
 * Message counts after screening: each screened item takes one from its message's clean items
 * (`cleanPerMessage`, updated), and a message left with none moves from accepted to quarantined.
 */
function moveEmptied(
  messages: Counts['messages'],
  screened: readonly QuarantineRecord[],
  cleanPerMessage: Map<string, number>,
): Counts['messages'] {
  let emptied = 0;
  for (const q of screened) {
    const left = (cleanPerMessage.get(q.messageId) ?? 0) - 1;
    cleanPerMessage.set(q.messageId, left);
    if (left === 0) emptied += 1;
  }
  return {
    received: messages.received,
    accepted: messages.accepted - emptied,
    quarantined: messages.quarantined + emptied,
  };
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/**
 * Folds screening's verdicts into the cleaning counts: a sample that cleaning passed but screening
 * quarantined moves from clean to quarantined with its readings, and a message none of whose samples
 * survived moves from accepted to quarantined. Totals received are unchanged.
 */
function foldScreening(
  counts: Counts,
  screen: SampleCounts,
  screened: readonly QuarantineRecord[],
  cleanPerMessage: Map<string, number>,
): Counts {
  const movedSamples = screen.samples.quarantined;
  const movedReadings = screen.readings.quarantined;
  return {
    ...counts,
    messages: moveEmptied(
      counts.messages,
      screened.filter((q) => q.level === 'sample'),
      cleanPerMessage,
    ),
    samples: {
      received: counts.samples.received,
      clean: counts.samples.clean - movedSamples,
      quarantined: counts.samples.quarantined + movedSamples,
    },
    readings: {
      received: counts.readings.received,
      clean: counts.readings.clean - movedReadings,
      quarantined: counts.readings.quarantined + movedReadings,
    },
  };
}
