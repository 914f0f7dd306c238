/**
 * The part every recorded-data replay shares: start the local runtime with the replayed assets, publish
 * the messages in data-time order through MQTT (one connection per asset, assets in parallel, the
 * broker clock following the data), wait for the pipeline to drain, and collect every alert and the
 * run's accounting. `azure.ts` and `cmapss.ts` build the messages and score the alerts.
 */
import type { TwinHealthChangedDetail } from '../../lambdas/core/alerts/policy.ts';
import type { AssetInfo } from '../../lambdas/core/catalog/types.ts';
import { type LocalRuntimeOptions, type RunSummary, startLocalRuntime } from '../runtime/runtime.ts';

/** One message of a replay. */
export interface ReplayMessage {
  /** Data time, epoch ms: the broker clock is set to it (plus 1 s) when the message goes out. */
  readonly ts: number;
  /** The publishing device (MQTT client id = asset id). */
  readonly clientId: string;
  readonly topic: string;
  readonly payload: string;
}

export interface ReplayProgress {
  readonly published: number;
  readonly total: number;
  /** Data time of the last published message (ISO-8601). */
  readonly clock: string;
}

export interface RunReplayOptions {
  /** Registered in the assets table, as the replay's fleet. */
  readonly assets: readonly AssetInfo[];
  /** Every message, sorted by `ts`; within one `ts`, each client's messages keep their order. */
  readonly messages: readonly ReplayMessage[];
  /** Data milliseconds per real second, or `max` for no pacing. @default 'max' */
  readonly speed?: number | 'max';
  /** Called about every 2,000 published messages and at the end. */
  readonly onProgress?: (p: ReplayProgress) => void;
  /** Pipeline drain timeout after the last publish, ms. @default 900 000 */
  readonly drainTimeoutMs?: number;
  /** Model bundle directory (e.g. a held-out bundle in a temporary folder). @default the runtime's */
  readonly modelDir?: string;
  /** Anomaly baselines of the features function. @default the shipped ones */
  readonly baselineFor?: LocalRuntimeOptions['baselineFor'];
}

export interface RunReplayResult {
  readonly accepted: number;
  readonly refused: number;
  /** Real seconds: publishing, then waiting for the pipeline to finish. */
  readonly seconds: { readonly publish: number; readonly total: number };
  readonly summary: RunSummary;
  /** received = accepted + quarantined for messages; received = clean + quarantined for samples and readings. */
  readonly balanced: { readonly messages: boolean; readonly samples: boolean; readonly readings: boolean };
  /** Every alert the local bus delivered, deduplicated by alertId, in arrival order. */
  readonly alerts: readonly TwinHealthChangedDetail[];
  /** Alert counts by `severity/scope`. */
  readonly alertCounts: Readonly<Record<string, number>>;
}

export class ReplayInputError extends Error {
  override readonly name: string = 'ReplayInputError';
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));

/** Runs the messages through a fresh local runtime and returns what came out; see the module comment. */
export async function runReplay(options: RunReplayOptions): Promise<RunReplayResult> {
  const { messages } = options;
  const speed = options.speed ?? 'max';
  if (speed !== 'max' && !(speed > 0)) throw new ReplayInputError(`speed must be positive or "max", got ${speed}`);
  if (messages.length === 0) throw new ReplayInputError('no messages to replay');
  const alerts: TwinHealthChangedDetail[] = [];
  const alertIds = new Set<string>();
  const started = performance.now();
  const runtime = await startLocalRuntime({
    fleetAssets: options.assets,
    logLevel: 'SILENT',
    ...(options.modelDir !== undefined ? { modelDir: options.modelDir } : {}),
    ...(options.baselineFor !== undefined ? { baselineFor: options.baselineFor } : {}),
    // The runtime's own alert log keeps only the newest 1,000: collect every alert here.
    onAlert: (a) => {
      if (alertIds.has(a.alertId)) return;
      alertIds.add(a.alertId);
      alerts.push(a);
    },
  });
  let accepted = 0;
  let refused = 0;
  try {
    const t0 = messages[0]!.ts;
    let published = 0;
    let nextReport = 2_000;
    // One group per data time: the clock moves to it, then each device publishes its messages of that
    // time in order while the devices go in parallel (one MQTT connection each).
    for (let i = 0; i < messages.length; ) {
      const ts = messages[i]!.ts;
      let j = i;
      while (j < messages.length && messages[j]!.ts === ts) j++;
      const perClient = new Map<string, ReplayMessage[]>();
      for (let k = i; k < j; k++) {
        const m = messages[k]!;
        const list = perClient.get(m.clientId);
        if (list) list.push(m);
        else perClient.set(m.clientId, [m]);
      }
      if (speed !== 'max') await sleep(started + ((ts - t0) / speed) * 1000 - performance.now());
      // As `pdm ingest` does: the broker's clock (the rule's timestamp()) follows the data.
      runtime.setClock(ts + 1_000);
      await Promise.all(
        [...perClient.values()].map(async (list) => {
          for (const m of list) {
            if ((await runtime.publishAs(m.clientId, m.topic, m.payload)) === 'accepted') accepted += 1;
            else refused += 1;
          }
        }),
      );
      published += j - i;
      i = j;
      if (published >= nextReport || i === messages.length) {
        nextReport += 2_000;
        options.onProgress?.({ published, total: messages.length, clock: new Date(ts).toISOString() });
      }
    }
    const publishSeconds = (performance.now() - started) / 1000;
    await runtime.drain(options.drainTimeoutMs ?? 900_000);
    const s = await runtime.summary();
    const totalSeconds = (performance.now() - started) / 1000;
    const alertCounts: Record<string, number> = {};
    for (const a of alerts) {
      const key = `${a.severity}/${a.scope}`;
      alertCounts[key] = (alertCounts[key] ?? 0) + 1;
    }
    return {
      accepted,
      refused,
      seconds: { publish: Math.round(publishSeconds * 10) / 10, total: Math.round(totalSeconds * 10) / 10 },
      summary: s,
      balanced: {
        messages: s.messages.accepted + s.messages.quarantined === s.messages.received,
        samples: s.samples.clean + s.samples.quarantined === s.samples.received,
        readings: s.readings.clean + s.readings.quarantined === s.readings.received,
      },
      alerts,
      alertCounts,
    };
  } finally {
    await runtime.stop();
  }
}
