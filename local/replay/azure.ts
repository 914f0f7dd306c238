/**
 * Replays the stored Azure PdM slice through the whole local pipeline (MQTT → rule bridge → clean →
 * features → twins → EventBridge → SNS) and scores the alerts it raised against PdM_failures.
 *
 * Each machine is registered as the `industrial-machine` asset `machine-<id>` (as the training does,
 * `machineAsset`), its hourly rows become `pdm.telemetry.v1` messages, its PdM_errors records
 * `pdm.event.v1` events and its PdM_maint records `pdm.maintenance.v1` replacements, exactly the event
 * sequence `machineEvents` gives the trainer.
 */
import { join } from 'node:path';
import type { TwinHealthChangedDetail } from '../../lambdas/core/alerts/policy.ts';
import type { AnomalyBaseline } from '../../lambdas/core/anomaly/types.ts';
import type { AssetModel } from '../../lambdas/core/catalog/types.ts';
import { EVENT_SCHEMA } from '../../lambdas/core/contract/telemetry.ts';
import { eventsTopic, maintenanceTopic, telemetryTopic } from '../../lambdas/core/contract/topics.ts';
import {
  type AzureData,
  HOUR_MS,
  loadAzure,
  machineAsset,
  machineEvents,
  type MachineEvent,
  telemetryMachines,
} from '../../ml/datasets/azure.ts';
import type { RunSummary } from '../runtime/runtime.ts';
import { type ReplayProgress, ReplayInputError, runReplay } from './run.ts';
import { type ReplayScore, scoreReplay, type ScoredFailure } from './score.ts';

/** Where the data lives relative to the project root (tests and the CLI read it in place). */
export const DEFAULT_AZURE_DIR = join(import.meta.dirname, '..', '..', '..', 'shared', 'data', 'azure_pdm');

/** The month `docs/azure-pdm.md` holds out for evaluation (the shipped models saw it in training). */
export const MARCH_2015 = { from: Date.UTC(2015, 2, 1), to: Date.UTC(2015, 3, 1, 6) } as const;

export type { ReplayProgress };

export interface ReplayAzureOptions {
  /** Directory with the PdM_* files. @default ../shared/data/azure_pdm */
  readonly dataDir?: string;
  /** Machine ids to replay. @default every machine in the telemetry slice (1–20) */
  readonly machines?: readonly number[];
  /** Replay telemetry with ts in [from, to) only, epoch ms. @default the whole slice */
  readonly from?: number;
  /** @default the whole slice */
  readonly to?: number;
  /** Data hours per real second, or `max` for no pacing. @default 'max' */
  readonly speed?: number | 'max';
  /** Called about every 2,000 published messages and at the end. */
  readonly onProgress?: (p: ReplayProgress) => void;
  /** Alert look-back / look-ahead for scoring, ms. @default 72 h */
  readonly horizonMs?: number;
  /** Pipeline drain timeout after the last publish, ms. @default 900 000 */
  readonly drainTimeoutMs?: number;
  /** Model bundle directory the pipeline scores with. @default layers/model (the shipped bundle) */
  readonly modelDir?: string;
  /** Anomaly baseline per asset model (a held-out replay's). @default the shipped ones */
  readonly baselineFor?: (model: AssetModel) => AnomalyBaseline;
}

export interface AzureReplayResult {
  readonly machines: readonly number[];
  /** Replayed telemetry window (first and last hour, ISO-8601). */
  readonly window: { readonly first: string; readonly last: string };
  readonly published: {
    readonly telemetry: number;
    readonly maintenance: number;
    /** `pdm.event.v1` messages (one PdM_errors record each). */
    readonly events: number;
    readonly accepted: number;
    readonly refused: number;
  };
  /** Real seconds: publishing, then waiting for the pipeline to finish. */
  readonly seconds: { readonly publish: number; readonly total: number };
  readonly summary: RunSummary;
  /** received = accepted + quarantined for messages; received = clean + quarantined for samples and readings. */
  readonly balanced: { readonly messages: boolean; readonly samples: boolean; readonly readings: boolean };
  /** Every alert the local bus delivered, deduplicated by alertId, in arrival order. */
  readonly alerts: readonly TwinHealthChangedDetail[];
  /** Alert counts by severity and scope. */
  readonly alertCounts: Readonly<Record<string, number>>;
  /** PdM_failures of the replayed machines inside the replayed window. */
  readonly failures: readonly MachineEvent[];
  /** Scored over the whole window, and over March 2015 only. */
  readonly score: { readonly all: ReplayScore; readonly march: ReplayScore };
}

interface Outgoing {
  readonly ts: number;
  readonly machine: number;
  readonly topic: string;
  readonly payload: string;
  readonly kind: 'telemetry' | 'maintenance' | 'events';
}

/**
 * Every message of the replay in global time order. Within one machine the order is `machineEvents`'s
 * (at one hour the errors, then the sample, then the replacement); machines interleave by time. The
 * pipeline keeps that order: one asset's messages share a partition key, so they reach the features
 * function in the order they were published.
 */
export function azureMessages(data: AzureData, machines: readonly number[]): Outgoing[] {
  const info = new Map(data.machines.map((m) => [m.machineId, m]));
  const all: Outgoing[] = [];
  for (const id of machines) {
    const asset = machineAsset(info.get(id), id);
    const tTopic = telemetryTopic(asset.siteId, asset.assetId);
    const mTopic = maintenanceTopic(asset.siteId, asset.assetId);
    const eTopic = eventsTopic(asset.siteId, asset.assetId);
    for (const e of machineEvents(data, id)) {
      if (e.kind === 'event') {
        const payload = JSON.stringify({
          schema: EVENT_SCHEMA,
          assetId: asset.assetId,
          ts: e.ts,
          seq: e.seq,
          code: e.code,
          severity: e.severity,
          ...(e.component !== undefined ? { component: e.component } : {}),
        });
        all.push({ ts: e.ts, machine: id, topic: eTopic, payload, kind: 'events' });
      } else if (e.kind === 'sample') {
        const payload = JSON.stringify({ schema: 'pdm.telemetry.v1', assetId: asset.assetId, ts: e.ts, seq: e.seq, readings: e.readings });
        all.push({ ts: e.ts, machine: id, topic: tTopic, payload, kind: 'telemetry' });
      } else {
        const payload = JSON.stringify({
          schema: 'pdm.maintenance.v1',
          assetId: asset.assetId,
          ts: e.ts,
          kind: e.action,
          ...(e.component !== undefined ? { component: e.component } : {}),
        });
        all.push({ ts: e.ts, machine: id, topic: mTopic, payload, kind: 'maintenance' });
      }
    }
  }
  // Array.prototype.sort is stable: a machine's own order survives equal timestamps.
  return all.sort((a, b) => a.ts - b.ts || a.machine - b.machine);
}

/** Restricts the telemetry to the chosen machines and window; the event tables stay whole. */
export function sliceAzure(data: AzureData, machines: readonly number[], from: number, to: number): AzureData {
  const ids = new Set(machines);
  return { ...data, telemetry: data.telemetry.filter((r) => ids.has(r.machineId) && r.ts >= from && r.ts < to) };
}

export { ReplayInputError };

/** Runs the replay end to end and scores it; see the module comment. */
export async function replayAzure(options: ReplayAzureOptions = {}): Promise<AzureReplayResult> {
  const speed = options.speed ?? 'max';
  if (speed !== 'max' && !(speed > 0)) throw new ReplayInputError(`speed must be positive or "max", got ${speed}`);
  const full = loadAzure(options.dataDir ?? DEFAULT_AZURE_DIR);
  const available = telemetryMachines(full);
  const machines = [...(options.machines ?? available)].sort((a, b) => a - b);
  const missing = machines.filter((m) => !available.includes(m));
  if (missing.length > 0) throw new ReplayInputError(`no telemetry for machine(s) ${missing.join(', ')}`);
  const data = sliceAzure(full, machines, options.from ?? Number.NEGATIVE_INFINITY, options.to ?? Number.POSITIVE_INFINITY);
  if (data.telemetry.length === 0) throw new ReplayInputError('no telemetry in the chosen window');
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  for (const r of data.telemetry) {
    first = Math.min(first, r.ts);
    last = Math.max(last, r.ts);
  }
  const messages = azureMessages(data, machines);
  const info = new Map(full.machines.map((m) => [m.machineId, m]));

  const run = await runReplay({
    assets: machines.map((id) => machineAsset(info.get(id), id)),
    messages: messages.map((m) => ({ ts: m.ts, clientId: m.topic.split('/')[2]!, topic: m.topic, payload: m.payload })),
    speed: speed === 'max' ? 'max' : speed * HOUR_MS,
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    ...(options.drainTimeoutMs !== undefined ? { drainTimeoutMs: options.drainTimeoutMs } : {}),
    ...(options.modelDir !== undefined ? { modelDir: options.modelDir } : {}),
    ...(options.baselineFor !== undefined ? { baselineFor: options.baselineFor } : {}),
  });
  const { alerts } = run;
  const ids = new Set(machines);
  const failures = full.failures
    .filter((f) => ids.has(f.machineId) && f.ts >= first && f.ts <= last)
    .sort((a, b) => a.ts - b.ts || a.machineId - b.machineId);
  // Every failure of these machines (the table covers all of 2015) can make an alert true, even one
  // after the replayed window.
  const judge: ScoredFailure[] = full.failures
    .filter((f) => ids.has(f.machineId))
    .map((f) => ({ assetId: `machine-${f.machineId}`, component: f.what, ts: f.ts }));
  const horizon = options.horizonMs !== undefined ? { horizonMs: options.horizonMs } : {};
  const all = scoreReplay(alerts, judge, { ...horizon, from: first, to: last + 1 });
  const march = scoreReplay(alerts, judge, {
    ...horizon,
    from: Math.max(first, MARCH_2015.from),
    to: Math.min(last + 1, MARCH_2015.to),
  });
  const telemetry = messages.filter((m) => m.kind === 'telemetry').length;
  const events = messages.filter((m) => m.kind === 'events').length;
  return {
    machines,
    window: { first: new Date(first).toISOString(), last: new Date(last).toISOString() },
    published: {
      telemetry,
      maintenance: messages.length - telemetry - events,
      events,
      accepted: run.accepted,
      refused: run.refused,
    },
    seconds: run.seconds,
    summary: run.summary,
    balanced: run.balanced,
    alerts,
    alertCounts: run.alertCounts,
    failures,
    score: { all, march },
  };
}
