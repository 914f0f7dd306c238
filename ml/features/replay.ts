/**
 * Replays one asset's history (telemetry, maintenance and device events) through the same twin code the
 * feature Lambda runs (screening, streaming features, event counts, anomaly) and returns the feature row
 * of every accepted sample. Training and evaluation use
 * this, so a model learns from exactly the vectors it will be served: no training/serving skew.
 */
import { type AnomalyBaseline, DEFAULT_BASELINES } from '../../lambdas/core/anomaly/index.ts';
import type { AssetInfo, AssetModel } from '../../lambdas/core/catalog/types.ts';
import {
  EventMessageSchema,
  type EventSeverity,
  type MaintenanceKind,
  toEpochMs,
} from '../../lambdas/core/contract/telemetry.ts';
import { featureNames } from '../../lambdas/core/features/index.ts';
import type { FeatureRow, Twin, TwinInput } from '../../lambdas/core/twin/twin.ts';
import { prepareBatch } from '../../lambdas/core/twin/twin.ts';

export type ReplayEvent =
  | {
      readonly kind: 'sample';
      readonly ts: number;
      readonly seq: number;
      readonly readings: Readonly<Record<string, number>>;
    }
  | {
      readonly kind: 'maintenance';
      readonly ts: number;
      readonly action: MaintenanceKind;
      readonly component?: string;
    }
  | {
      /** A device event (`pdm.event.v1`): counted into the event features of the samples after it. */
      readonly kind: 'event';
      readonly ts: number;
      /** The asset's event-log seq; duplicates are screened out as in the live pipeline. */
      readonly seq: number;
      readonly code: string;
      readonly severity: EventSeverity;
      readonly component?: string;
    };

/** A simulated or recorded events message that is not `pdm.event.v1`. */
export class ReplayMessageError extends Error {
  override readonly name: string = 'ReplayMessageError';
}

/**
 * The replay events of one `pdm.event.v1` message payload (a device's events topic), in message order:
 * trainers that simulate devices feed their events in as the live pipeline would receive them.
 * @throws ReplayMessageError when the payload is not a valid events message.
 */
export function replayEventsOf(payload: string): ReplayEvent[] {
  let body: unknown;
  try {
    body = JSON.parse(payload);
  } catch (err) {
    throw new ReplayMessageError(`events payload is not JSON: ${(err as Error).message}`);
  }
  const parsed = EventMessageSchema.safeParse(body);
  if (!parsed.success) throw new ReplayMessageError(`not a pdm.event.v1 message: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  const message = parsed.data;
  const list = 'events' in message ? message.events : [message];
  return list.map((e) => ({
    kind: 'event' as const,
    ts: toEpochMs(e.ts),
    seq: e.seq,
    code: e.code,
    severity: e.severity,
    ...(e.component !== undefined ? { component: e.component } : {}),
  }));
}

export interface ReplayResult {
  /** Feature names, the order of every row's vector. */
  readonly names: readonly string[];
  readonly rows: readonly FeatureRow[];
  /** Samples screening refused (duplicates, late, flatlined to nothing). */
  readonly quarantined: number;
  /** Device events screening refused (duplicate or too-old event seqs). */
  readonly eventsQuarantined: number;
  readonly twin: Twin | undefined;
}

/**
 * @param events the asset's history in arrival order (normally time order).
 * @param batchSize events per simulated Lambda batch; results do not depend on it. @default 500
 * @param anomalyBaseline the baseline the serving pipeline will score with. @default the shipped one
 */
export function replayFeatures(
  model: AssetModel,
  asset: AssetInfo,
  events: readonly ReplayEvent[],
  batchSize = 500,
  anomalyBaseline?: AnomalyBaseline,
): ReplayResult {
  const baseline = anomalyBaseline ?? DEFAULT_BASELINES[model.id];
  if (!baseline) throw new Error(`no anomaly baseline for asset model ${model.id}`);
  const ctx = { asset, model, baseline };
  let twin: Twin | undefined;
  const rows: FeatureRow[] = [];
  let quarantined = 0;
  let eventsQuarantined = 0;
  for (let i = 0; i < events.length; i += batchSize) {
    const inputs: TwinInput[] = events.slice(i, i + batchSize).map((e): TwinInput => {
      if (e.kind === 'event') {
        return {
          kind: 'event',
          event: {
            assetId: asset.assetId,
            siteId: asset.siteId,
            modelId: model.id,
            ts: e.ts,
            seq: e.seq,
            code: e.code,
            severity: e.severity,
            receivedAt: e.ts,
            ...(e.component !== undefined ? { component: e.component } : {}),
          },
        };
      }
      return e.kind === 'sample'
        ? {
            kind: 'sample',
            sample: {
              assetId: asset.assetId,
              siteId: asset.siteId,
              modelId: model.id,
              ts: e.ts,
              seq: e.seq,
              readings: e.readings,
              receivedAt: e.ts,
            },
          }
        : {
            kind: 'maintenance',
            event: {
              assetId: asset.assetId,
              siteId: asset.siteId,
              modelId: model.id,
              ts: e.ts,
              kind: e.action,
              receivedAt: e.ts,
              ...(e.component !== undefined ? { component: e.component } : {}),
            },
          };
    });
    const prepared = prepareBatch(twin, inputs, ctx);
    twin = prepared.twin;
    rows.push(...prepared.rows);
    quarantined += prepared.screenCounts.samples.quarantined;
    eventsQuarantined += prepared.eventCounts.quarantined;
  }
  return { names: featureNames(model), rows, quarantined, eventsQuarantined, twin };
}
