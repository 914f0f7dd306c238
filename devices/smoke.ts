/**
 * `pdm smoke`: the first thing to run after `cdk deploy`. It provisions a test device, subscribes a
 * temporary SQS queue to the alert topics, publishes a short synthetic degrading pump through IoT Core
 * as that device, waits for its twin in DynamoDB, for an alert in the queue and for its rows in the
 * history (Athena), removes everything it created, and reports each step with its latency. The steps talk to AWS through `SmokeDeps`, so the
 * sequence, timeouts and clean-up are tested with mocks.
 */
import { errorName } from '../lambdas/adapters/retry.ts';
import type { FleetAsset } from './fleet.ts';

export interface SmokeStep {
  readonly name: string;
  readonly ok: boolean;
  readonly ms: number;
  readonly detail: string;
}

export interface SmokeReport {
  readonly passed: boolean;
  readonly assetId: string;
  readonly steps: readonly SmokeStep[];
}

/** What the smoke test does against AWS (devices/smoke-cli.ts builds it from SDK clients). */
export interface SmokeDeps {
  provisionDevice(asset: FleetAsset): Promise<void>;
  /** Creates the queue and subscribes it to the alert topics; returns a handle for the clean-up. */
  subscribeQueue(): Promise<string>;
  /** Publishes `ticks` samples of the asset through IoT Core; returns how many were acknowledged. */
  publish(asset: FleetAsset, ticks: number): Promise<number>;
  /** The twin's health state, or undefined while there is no twin. */
  readTwin(assetId: string): Promise<string | undefined>;
  /** Alerts for the asset received on the queue so far (their `to` states). */
  receiveAlerts(queue: string, assetId: string): Promise<string[]>;
  /**
   * The asset's rows per history table, read with Athena (tables whose rows have not arrived yet may be
   * absent). Firehose delivers after its buffer interval, so this is polled like the twin.
   */
  countHistoryRows(assetId: string, sinceMs: number): Promise<Readonly<Record<string, number>>>;
  /** Deletes the asset's rows from the history tables (Iceberg `DELETE`). */
  deleteHistoryRows(assetId: string): Promise<void>;
  unsubscribeQueue(queue: string): Promise<void>;
  deleteAssetData(assetId: string): Promise<void>;
  revokeDevice(assetId: string): Promise<void>;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
}

export interface SmokeOptions {
  /** Unique per run, e.g. `smoke-<epoch>`. */
  readonly assetId: string;
  /** Samples published. @default 60 */
  readonly ticks?: number;
  /**
   * How long to wait for the twin, the alert and the history rows, each.
   * @default 600000 (the features window and the history's Firehose buffer are 300 s each)
   */
  readonly waitMs?: number;
  /** Between polls. @default 5000 */
  readonly pollMs?: number;
}

/** A pump whose bearing starts wearing at once and fails within the run, so its twin must leave NORMAL. */
export function smokeAsset(assetId: string, ticks: number): FleetAsset {
  return { assetId, siteId: 'smoke', modelId: 'centrifugal-pump', degradation: { component: 'bearing', startTick: 1, failTick: Math.max(3, Math.floor(ticks * 0.6)) } };
}

async function poll<T>(deps: SmokeDeps, waitMs: number, pollMs: number, probe: () => Promise<T | undefined>): Promise<T | undefined> {
  const deadline = deps.now() + waitMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (deps.now() >= deadline) return undefined;
    await deps.sleep(pollMs);
  }
}

/** Runs the steps in order, stops at the first failure, and always cleans up what was created. */
export async function runSmoke(deps: SmokeDeps, opts: SmokeOptions): Promise<SmokeReport> {
  const ticks = opts.ticks ?? 60;
  const waitMs = opts.waitMs ?? 600_000;
  const pollMs = opts.pollMs ?? 5_000;
  const asset = smokeAsset(opts.assetId, ticks);
  const steps: SmokeStep[] = [];
  const step = async (name: string, fn: () => Promise<string>): Promise<boolean> => {
    const t0 = deps.now();
    try {
      const detail = await fn();
      steps.push({ name, ok: true, ms: deps.now() - t0, detail });
      return true;
    } catch (err) {
      steps.push({ name, ok: false, ms: deps.now() - t0, detail: `${errorName(err)}: ${(err as Error).message}` });
      return false;
    }
  };

  let queue: string | undefined;
  let provisioned = false;
  let published = false;
  const since = deps.now() - ticks * 60_000 - 86_400_000;
  const ok =
    (await step('provision test device', async () => {
      await deps.provisionDevice(asset);
      provisioned = true;
      return `thing ${asset.assetId}, site ${asset.siteId}, ${asset.modelId}`;
    })) &&
    (await step('subscribe temporary queue', async () => {
      queue = await deps.subscribeQueue();
      return queue;
    })) &&
    (await step('publish through IoT Core', async () => {
      published = true;
      const acked = await deps.publish(asset, ticks);
      if (acked < ticks) throw new Error(`${acked}/${ticks} messages acknowledged`);
      return `${acked} messages acknowledged`;
    })) &&
    (await step('twin in DynamoDB', async () => {
      const state = await poll(deps, waitMs, pollMs, () => deps.readTwin(asset.assetId));
      if (state === undefined) throw new Error(`no twin after ${waitMs / 1000} s`);
      return `state ${state}`;
    })) &&
    (await step('alert delivered to SQS', async () => {
      const alerts = await poll(deps, waitMs, pollMs, async () => {
        const got = await deps.receiveAlerts(queue!, asset.assetId);
        return got.length > 0 ? got : undefined;
      });
      if (alerts === undefined) throw new Error(`no alert after ${waitMs / 1000} s`);
      return `to ${alerts.join(', ')}`;
    })) &&
    (await step('history rows in Athena', async () => {
      // Telemetry and feature rows are the ones every accepted sample writes; the others depend on the run.
      const counts = await poll(deps, waitMs, pollMs, async () => {
        const c = await deps.countHistoryRows(asset.assetId, since);
        return (c['telemetry'] ?? 0) > 0 && (c['features'] ?? 0) > 0 ? c : undefined;
      });
      if (counts === undefined) throw new Error(`no telemetry and feature rows after ${waitMs / 1000} s`);
      return Object.entries(counts)
        .filter(([, n]) => n > 0)
        .map(([t, n]) => `${t} ${n}`)
        .join(', ');
    }));

  // Clean-up runs whatever happened above, each part on its own.
  if (queue !== undefined) await step('clean up: queue and subscriptions', async () => (await deps.unsubscribeQueue(queue!), 'removed'));
  if (provisioned) {
    await step('clean up: device', async () => (await deps.revokeDevice(asset.assetId), 'certificate revoked, thing deleted'));
    await step('clean up: asset and twin rows', async () => (await deps.deleteAssetData(asset.assetId), 'deleted'));
  }
  // Rows Firehose delivers after this point stay behind (site "smoke"); docs/deploy.md says how to remove them.
  if (published) await step('clean up: history rows', async () => (await deps.deleteHistoryRows(asset.assetId), 'deleted'));
  return { passed: ok && steps.every((s) => s.ok), assetId: asset.assetId, steps };
}

export function formatSmoke(r: SmokeReport): string {
  const lines = r.steps.map((s) => `${s.ok ? 'PASS' : 'FAIL'}  ${s.name.padEnd(34)} ${`${(s.ms / 1000).toFixed(1)} s`.padStart(8)}  ${s.detail}`);
  return [...lines, r.passed ? `smoke test passed (${r.assetId})` : `smoke test FAILED (${r.assetId})`].join('\n');
}
