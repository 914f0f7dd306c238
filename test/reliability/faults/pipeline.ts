/**
 * The cloud pipeline, end to end, with faults injected at its ports: kinesalite (raw and clean
 * streams, two shards each) read by the local event source mapping emulation (`KinesisPoller`),
 * the REAL clean and features handlers, dynalite (registry, twins), the REAL Timestream writer over a
 * Timestream-semantics fake client, the REAL SageMaker scorer against the SageMaker-protocol model
 * server, and an alert consumer that records every delivery (before any dedup).
 *
 * Every fault decision comes from a seeded generator, so a faulty run is reproducible.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import type { TimestreamWriteClient, WriteRecordsCommand } from '@aws-sdk/client-timestream-write';
import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Context, KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { createFleet, type FleetAsset, FleetSimulator } from '../../../devices/fleet.ts';
import { DynamoAssetRegistry, DynamoTwinStore } from '../../../lambdas/adapters/aws/dynamodb.ts';
import { KinesisStreamWriter } from '../../../lambdas/adapters/aws/kinesis.ts';
import { SageMakerScorer } from '../../../lambdas/adapters/aws/sagemaker.ts';
import { TimestreamTelemetryStore } from '../../../lambdas/adapters/aws/timestream.ts';
import { LocalQuarantineSink } from '../../../lambdas/adapters/local/quarantine.ts';
import { readBundleDir } from '../../../lambdas/adapters/model.ts';
import {
  type AlertFailure,
  type AlertPublisher,
  CachedAssetRegistry,
  type TwinStore,
} from '../../../lambdas/adapters/ports.ts';
import { encodeRawRecord } from '../../../lambdas/adapters/records.ts';
import { createHandler as createCleanHandler } from '../../../lambdas/clean/app.ts';
import type { TwinHealthChangedDetail } from '../../../lambdas/core/alerts/policy.ts';
import type { Twin } from '../../../lambdas/core/twin/twin.ts';
import { createHandler as createFeatureHandler } from '../../../lambdas/features/app.ts';
import { startModelServer } from '../../../local/runtime/model-server.ts';
import { KinesisPoller } from '../../../local/runtime/poller.ts';
import { startDynalite, startKinesalite } from '../../adapters/standins.ts';
import { scaled } from '../../support/env.ts';

/** Which faults a run injects, each as the share of calls (or batches) it hits. */
export interface FaultPlan {
  /** Timestream WriteRecords calls answered with ThrottlingException. */
  readonly timestreamThrottle?: number;
  /** Timestream WriteRecords calls answered with RejectedRecordsException for one record. */
  readonly timestreamReject?: number;
  /** InvokeEndpoint calls answered with a 5xx ModelError. */
  readonly sagemaker5xx?: number;
  /** InvokeEndpoint calls that hang past the scorer's timeout. */
  readonly sagemakerTimeout?: number;
  /** Twin writes preceded by a concurrent writer bumping the stored version. */
  readonly twinConflict?: number;
  /** Handler invocations (either function) that process the first half of the batch, then crash. */
  readonly crashMidBatch?: number;
  /** PutEvents entries that fail (the alert is not delivered; the handler fails the asset). */
  readonly alertFailure?: number;
}

export interface FaultTally {
  timestreamThrottled: number;
  timestreamRejected: number;
  sagemaker5xx: number;
  sagemakerTimeouts: number;
  twinConflicts: number;
  crashes: number;
  alertFailures: number;
  retriedBatches: number;
  onFailure: number;
}

export interface RunResult {
  readonly twins: ReadonlyMap<string, Twin>;
  /** Every alert delivery the consumer saw, duplicates included, in order. */
  readonly deliveries: readonly TwinHealthChangedDetail[];
  /** `assetId:seq` of every telemetry sample the telemetry store holds. */
  readonly telemetry: ReadonlySet<string>;
  /** Telemetry samples the store refused (reported by the writer, not silently dropped). */
  readonly telemetryRejectedReported: number;
  readonly faults: FaultTally;
  readonly ms: number;
}

export interface Workload {
  readonly fleet: readonly FleetAsset[];
  /** Raw stream records (IoT rule envelope), per asset in sequence order. */
  readonly records: readonly { partitionKey: string; data: Uint8Array }[];
  /** The highest seq each asset sent: a settled run has every twin at it. */
  readonly lastSeq: ReadonlyMap<string, number>;
}

/** The simulated input both runs share: a fleet with one degrading asset, `ticks` ticks. */
export function workload(options: { assets: number; ticks: number; seed: number }): Workload {
  const fleet = createFleet({ assets: options.assets, seed: options.seed, models: ['centrifugal-pump'], failingShare: 0.25 });
  const sim = new FleetSimulator(fleet, { seed: options.seed });
  const records: { partitionKey: string; data: Uint8Array }[] = [];
  const lastSeq = new Map<string, number>();
  for (let t = 0; t < options.ticks; t++) {
    const receivedAt = sim.now + 1_000;
    for (const m of sim.step()) {
      records.push({ partitionKey: m.assetId, data: encodeRawRecord(m.topic, m.payload, receivedAt) });
      // One sample ({seq, …}), a batch ({samples: [{seq, …}]}) or a maintenance message (no seq).
      let body: { seq?: unknown; samples?: { seq: number }[] };
      try {
        body = JSON.parse(m.payload) as typeof body;
      } catch {
        continue; // a damaged message is quarantined by design and moves no twin
      }
      const samples = body.samples ?? (typeof body.seq === 'number' ? [{ seq: body.seq }] : []);
      for (const { seq } of samples) lastSeq.set(m.assetId, Math.max(lastSeq.get(m.assetId) ?? -1, seq));
    }
  }
  return { fleet, records, lastSeq };
}

/**
 * Decides whether a call is hit by a fault: the first opportunity of each kind always is (so a test
 * never passes because the fault happened not to fire), then a seeded share of the rest.
 */
export function faultDice(rnd: () => number): (kind: string, rate: number | undefined) => boolean {
  const seen = new Set<string>();
  return (kind, rate) => {
    if (!rate) return false;
    if (!seen.has(kind)) {
      seen.add(kind);
      return true;
    }
    return rnd() < rate;
  };
}

/** mulberry32: small, seeded, good enough to pick which calls fail. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class NamedError extends Error {
  constructor(
    override readonly name: string,
    message: string,
    readonly $metadata: { httpStatusCode: number },
    extra: Record<string, unknown> = {},
  ) {
    super(message);
    Object.assign(this, extra);
  }
}

/**
 * Timestream's write semantics, in memory: a record identical to a stored one (dimensions, measure
 * name, time, values) is accepted again (an idempotent retry); a different value at the same key is
 * rejected, as the service does. Faults are injected before the call is applied.
 */
class FakeTimestream {
  readonly rows = new Map<string, string>();
  constructor(
    private readonly plan: FaultPlan,
    private readonly rnd: () => number,
    private readonly hit: ReturnType<typeof faultDice>,
    private readonly tally: FaultTally,
  ) {}

  async send(command: WriteRecordsCommand): Promise<object> {
    const input = command.input;
    const records = input.Records ?? [];
    if (this.hit('throttle', this.plan.timestreamThrottle)) {
      this.tally.timestreamThrottled += 1;
      throw new NamedError('ThrottlingException', 'Rate exceeded (injected)', { httpStatusCode: 429 });
    }
    const rejected: { RecordIndex: number; Reason: string }[] = [];
    if (records.length > 0 && this.hit('reject', this.plan.timestreamReject)) {
      // Real rejections are about the data; this one stands for a record outside the memory store retention.
      rejected.push({ RecordIndex: Math.floor(this.rnd() * records.length), Reason: 'injected: outside the memory store retention' });
      this.tally.timestreamRejected += 1;
    }
    records.forEach((r, i) => {
      if (rejected.some((x) => x.RecordIndex === i)) return;
      const key = `${input.TableName}|${(r.Dimensions ?? []).map((d) => d.Value).join('/')}|${r.MeasureName}|${r.Time}`;
      const value = JSON.stringify(r.MeasureValues);
      const before = this.rows.get(key);
      if (before !== undefined && before !== value) rejected.push({ RecordIndex: i, Reason: 'a record with a different value exists' });
      else this.rows.set(key, value);
    });
    if (rejected.length > 0) {
      throw new NamedError('RejectedRecordsException', 'rejected', { httpStatusCode: 419 }, { RejectedRecords: rejected });
    }
    return {};
  }
}

/** A second writer of the same twin, racing ours between its read and its conditional write. */
class RacingTwinStore implements TwinStore {
  constructor(
    private readonly inner: TwinStore,
    private readonly race: (assetId: string) => Promise<boolean>,
  ) {}
  get(assetId: string) {
    return this.inner.get(assetId);
  }
  async put(twin: Twin, expectedVersion: number | null) {
    if (expectedVersion !== null) await this.race(twin.assetId);
    await this.inner.put(twin, expectedVersion);
  }
  settleAlerts(assetId: string, version: number, remaining: readonly TwinHealthChangedDetail[]) {
    return this.inner.settleAlerts(assetId, version, remaining);
  }
}

/** The consumer behind EventBridge: records each delivery as received, duplicates included. */
class RecordingAlerts implements AlertPublisher {
  readonly deliveries: TwinHealthChangedDetail[] = [];
  constructor(
    private readonly plan: FaultPlan,
    private readonly hit: ReturnType<typeof faultDice>,
    private readonly tally: FaultTally,
  ) {}
  async publish(alerts: readonly TwinHealthChangedDetail[]): Promise<{ failed: AlertFailure[] }> {
    const failed: AlertFailure[] = [];
    for (const alert of alerts) {
      if (this.hit('alert', this.plan.alertFailure)) {
        this.tally.alertFailures += 1;
        failed.push({ alert, error: 'InternalFailure (injected)' });
      } else this.deliveries.push(alert);
    }
    return { failed };
  }
}

type Handler = (event: KinesisStreamEvent, context: Context) => Promise<KinesisStreamBatchResponse>;

/** Processes the first half of a batch for real, then throws: the event source redelivers all of it. */
function crashing(inner: Handler, plan: FaultPlan, hit: ReturnType<typeof faultDice>, tally: FaultTally): Handler {
  return async (event, context) => {
    if (event.Records.length > 1 && hit('crash', plan.crashMidBatch)) {
      tally.crashes += 1;
      await inner({ Records: event.Records.slice(0, Math.ceil(event.Records.length / 2)) }, context);
      throw new Error('injected crash mid-batch');
    }
    return inner(event, context);
  };
}

/** Runs the workload through the pipeline with the given faults and returns what came out. */
export async function runPipeline(work: Workload, plan: FaultPlan, seed = 42, settleMs = scaled(60_000)): Promise<RunResult> {
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  const started = performance.now();
  const rnd = seeded(seed);
  const hit = faultDice(rnd);
  const tally: FaultTally = {
    timestreamThrottled: 0,
    timestreamRejected: 0,
    sagemaker5xx: 0,
    sagemakerTimeouts: 0,
    twinConflicts: 0,
    crashes: 0,
    alertFailures: 0,
    retriedBatches: 0,
    onFailure: 0,
  };
  const dynamo = await startDynalite();
  const kinesis = await startKinesalite();
  const bundle = readBundleDir(new URL('../../../layers/model', import.meta.url).pathname);
  const modelServer = await startModelServer(bundle);
  const sagemaker = new SageMakerRuntimeClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    endpoint: modelServer.url,
  });
  const realSend = sagemaker.send.bind(sagemaker) as (c: unknown, o?: { abortSignal?: AbortSignal }) => Promise<unknown>;
  // The fault sits in front of the real endpoint: a 5xx answer, or no answer until the scorer aborts.
  (sagemaker as unknown as { send: typeof realSend }).send = async (command, options) => {
    if (hit('5xx', plan.sagemaker5xx)) {
      tally.sagemaker5xx += 1;
      throw new NamedError('ModelError', 'Received server error (500) from primary (injected)', { httpStatusCode: 500 });
    }
    if (hit('timeout', plan.sagemakerTimeout)) {
      tally.sagemakerTimeouts += 1;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 5_000);
        options?.abortSignal?.addEventListener('abort', () => {
          clearTimeout(t);
          resolve();
        });
      });
      throw new NamedError('AbortError', 'Request aborted', { httpStatusCode: 0 });
    }
    return realSend(command, options);
  };
  const pollers: KinesisPoller[] = [];
  try {
    await dynamo.createTable('assets');
    await dynamo.createTable('twins');
    await kinesis.createStream('raw', 2);
    await kinesis.createStream('clean', 2);
    await Promise.all(
      work.fleet.map((a) =>
        dynamo.doc.send(new PutCommand({ TableName: 'assets', Item: { assetId: a.assetId, siteId: a.siteId, modelId: a.modelId } })),
      ),
    );
    const quiet = new Logger({ serviceName: 'faults', logLevel: 'SILENT' });
    const metrics = new Metrics({ namespace: 'pdm-test', serviceName: 'faults' });
    const timestream = new FakeTimestream(plan, rnd, hit, tally);
    const telemetry = new TimestreamTelemetryStore(
      timestream as unknown as TimestreamWriteClient,
      { database: 'pdm', telemetryTable: 'telemetry', featuresTable: 'features', predictionsTable: 'predictions' },
      { baseDelayMs: 1, maxDelayMs: 5 },
    );
    const registry = new CachedAssetRegistry(new DynamoAssetRegistry(dynamo.doc, 'assets'));
    const alerts = new RecordingAlerts(plan, hit, tally);
    const twins = new RacingTwinStore(new DynamoTwinStore(dynamo.doc, 'twins'), async (assetId) => {
      if (!hit('conflict', plan.twinConflict)) return false;
      tally.twinConflicts += 1;
      await dynamo.doc.send(
        new UpdateCommand({
          TableName: 'twins',
          Key: { assetId },
          UpdateExpression: 'SET version = version + :one',
          ExpressionAttributeValues: { ':one': 1 },
        }),
      );
      return true;
    });
    let telemetryRejectedReported = 0;
    const clean = createCleanHandler({
      registry,
      stream: new KinesisStreamWriter(kinesis.client, 'clean'),
      quarantine: new LocalQuarantineSink(),
      telemetry,
      logger: quiet,
      metrics,
    });
    const cleanCounted: Handler = async (event, context) => {
      const res = await clean(event, context);
      telemetryRejectedReported += clean.lastSummary?.telemetryRejected ?? 0;
      return res;
    };
    const features = createFeatureHandler({
      registry,
      twins,
      scorer: new SageMakerScorer(sagemaker, bundle, { endpoints: modelServer.endpoints, timeoutMs: 200 }),
      telemetry,
      quarantine: new LocalQuarantineSink(),
      alerts,
      logger: quiet,
      metrics,
    });
    const common = { kinesis: kinesis.client, batchSize: 100, maxRetries: 20, retryDelayMs: 5, idlePollMs: 10 };
    const onFailure = () => (tally.onFailure += 1);
    pollers.push(
      new KinesisPoller({ ...common, streamName: 'raw', functionName: 'clean', handler: crashing(cleanCounted, plan, hit, tally), onFailure }),
      new KinesisPoller({ ...common, streamName: 'clean', functionName: 'features', handler: crashing(features, plan, hit, tally), onFailure }),
    );
    for (const p of pollers) await p.start();

    for (let i = 0; i < work.records.length; i += 500) {
      const batch = work.records.slice(i, i + 500);
      const res = await kinesis.client.send(
        new PutRecordsCommand({ StreamName: 'raw', Records: batch.map((r) => ({ PartitionKey: r.partitionKey, Data: r.data })) }),
      );
      if ((res.FailedRecordCount ?? 0) > 0) throw new Error('kinesalite refused raw records');
    }

    // Settled when the data says so: every asset's twin holds the last sample that asset sent, and then
    // both functions are idle (no batch in flight or waiting for a retry, so alert retries are done).
    // Idleness alone is not enough: under load the pollers can be idle between two reads while records
    // are still on their way.
    const twinStore = new DynamoTwinStore(dynamo.doc, 'twins');
    const behind = async (): Promise<string[]> => {
      const late: string[] = [];
      for (const [assetId, seq] of work.lastSeq) {
        if (((await twinStore.get(assetId))?.lastSeq ?? -1) < seq) late.push(assetId);
      }
      return late;
    };
    const deadline = Date.now() + settleMs;
    let idleRounds = 0;
    for (;;) {
      await new Promise((r) => setTimeout(r, 50));
      idleRounds = pollers.every((p) => p.isIdle) ? idleRounds + 1 : 0;
      if (idleRounds >= 4 && (await behind()).length === 0) break;
      if (Date.now() > deadline) {
        throw new Error(`pipeline did not settle within ${settleMs} ms: twins behind for ${(await behind()).join(', ') || 'none'}`);
      }
    }
    for (const p of pollers) await p.stop();
    tally.retriedBatches = pollers.reduce((n, p) => n + p.stats.retriedBatches, 0);

    const twinMap = new Map<string, Twin>();
    for (const a of work.fleet) {
      const t = await twinStore.get(a.assetId);
      if (t) twinMap.set(a.assetId, t);
    }
    const telemetryKeys = new Set<string>();
    for (const [key, value] of timestream.rows) {
      if (!key.startsWith('telemetry|')) continue;
      const assetId = key.split('|')[1]!.split('/')[0]!;
      const seq = (JSON.parse(value) as { Name: string; Value: string }[]).find((m) => m.Name === 'seq')?.Value;
      telemetryKeys.add(`${assetId}:${seq}`);
    }
    return {
      twins: twinMap,
      deliveries: alerts.deliveries,
      telemetry: telemetryKeys,
      telemetryRejectedReported,
      faults: tally,
      ms: performance.now() - started,
    };
  } finally {
    for (const p of pollers) await p.stop();
    sagemaker.destroy();
    await modelServer.close();
    await kinesis.close();
    await dynamo.close();
  }
}
