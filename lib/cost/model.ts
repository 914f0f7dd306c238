/**
 * Monthly cost model of the deployed stack (docs/cost.md): list prices from prices.json times the
 * usage the pipeline generates for N assets sampling every S seconds with K samples per message.
 * Workload constants were measured on the simulator (test/lib/cost/measure-workload.ts); handler
 * compute comes from `pdm bench`, I/O wait per invocation is an assumption (see WORKLOAD).
 */
import { readFileSync } from 'node:fs';
import { CONSUMER_DEFAULTS } from '../config.ts';
import { historyCost } from './history.ts';

export const HOURS_PER_MONTH = 730;
const SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600;
const KB = 1024;
const GB = 1024 ** 3;

export interface Price {
  readonly usd: number;
  readonly unit: string;
  readonly source: string;
  readonly status: string;
}
export interface PriceBook {
  readonly region: string;
  readonly readOn: string;
  readonly prices: Readonly<Record<string, Price>>;
}

export class CostInputError extends Error {
  override readonly name: string = 'CostInputError';
}

/** Loads prices.json next to this file. */
export function loadPrices(): PriceBook {
  return JSON.parse(readFileSync(new URL('./prices.json', import.meta.url), 'utf8')) as PriceBook;
}

/** Per asset model, measured with `npx tsx test/lib/cost/measure-workload.ts --ticks 11000` (60 s interval). */
export interface ModelWorkload {
  /** Bytes IoT Core meters for a message: header + K × per sample (payload + topic). */
  readonly messageHeaderBytes: number;
  readonly sampleBytes: number;
  /** One clean item on the clean stream (newline included). */
  readonly cleanItemBytes: number;
  /**
   * Stored twin item size (`encodeTwinItem`: summary + deflated JSON) once its windows are full (7.6 simulated days),
   * plus 140 bytes for the fleet-view summary attributes (risk, scores, updatedAt, samples, component states).
   */
  readonly twinBytes: number;
  /** Timestream write sizes of one sample's rows (telemetry, features, predictions), bytes. */
  readonly timestreamRowBytes: readonly [number, number, number];
  /** Predictors, i.e. SageMaker endpoints, of the model (layers/model/manifest.json). */
  readonly predictors: number;
}

export const WORKLOAD = {
  models: {
    // messages: K=1 / 10 / 60 measured 228 / 1602 / 9216 bytes (pump), 199 / 1257 / 7102 (machine), 465 / 3932 / 23179 (turbofan)
    'centrifugal-pump': { messageHeaderBytes: 76, sampleBytes: 152.3, cleanItemBytes: 295, twinBytes: 4016, timestreamRowBytes: [200, 3_000, 200], predictors: 2 },
    'industrial-machine': { messageHeaderBytes: 81, sampleBytes: 117.6, cleanItemBytes: 265, twinBytes: 3109, timestreamRowBytes: [190, 2_130, 260], predictors: 5 },
    turbofan: { messageHeaderBytes: 78, sampleBytes: 385.1, cleanItemBytes: 522, twinBytes: 3600, timestreamRowBytes: [420, 6_770, 200], predictors: 2 },
  } satisfies Record<string, ModelWorkload>,
  /** µs of core compute per message on the dev machine: 3.6 + 4.3 × K (bench: 7.9 at K=1, 46.6 at K=10). */
  coreMicrosPerMessage: (k: number) => 3.6 + 4.3 * k,
  /** Share of the core's time spent in cleaning (the clean function); the rest is the features function. */
  cleanShare: 0.37,
  /** Lambda gives one vCPU at 1769 MB; compute time scales inversely below that. */
  fullCpuMb: 1769,
  /** Assumed I/O wait per invocation (not measured on AWS): PutRecords; twin Get+Put and EventBridge. */
  cleanIoMs: 15,
  featuresIoMs: 30,
  /** Extra wait per features invocation for InvokeEndpoint (parallel over predictors), and endpoint compute per call and per row (assumed). */
  endpointIoMs: 40,
  endpointComputeMs: 20,
  endpointMicrosPerRow: 20,
  /** Rows per InvokeEndpoint call (DEFAULT_MAX_ROWS_PER_CALL). */
  endpointRowsPerCall: 1_000,
  /** Lambda log bytes per invocation (START/END/REPORT + EMF metrics line). */
  logBytesPerInvocation: 1_500,
  /** Custom metrics the handlers emit (docs/handlers.md: 10 + reasons for clean, 12 for features). */
  customMetrics: 30,
  /**
   * Alarm metrics of the default stack (17 pipeline alarms, math alarms count each metric, + 3 drift
   * alarms, one per asset model of the bundle); endpoints add 2 + one per endpoint.
   */
  alarms: 25,
  /** Training jobs per retraining run: the shipped bundle's 7 time-clock predictors over its 2 time-clock asset models. */
  retrainJobsPerRun: 3.5,
  /** State transitions of one run: Export, Map, NotifyDone and the execution start, + Train, Evaluate, Register per job. */
  retrainTransitions: (jobs: number) => 4 + 3 * jobs,
  /** Kinesis on-demand streams start at 4 shards' capacity. */
  onDemandMinShards: 4,
  /** Bytes of a TwinHealthChanged event. */
  alertEventBytes: 1_500,
  /**
   * Drift counters (docs/drift.md): an hour bucket holds up to 10 features × 11 bins of counts named
   * `c<k>_<b>`, about 1–1.3 KB by DynamoDB's item-size rule (attribute name bytes + ~1 byte per two
   * digits of a number) [estimate, not measured on AWS]: 2 WRU per ADD (UpdateItem bills the larger of
   * the item before and after); a 24 h window read is one Query of 24 buckets, eventually consistent.
   */
  driftBucketWru: 2,
  driftWindowRru: Math.ceil((24 * 1.3) / 4) * 0.5,
  /** The window is read at most once a minute per container and asset model (PDM_DRIFT_EVALUATE_SECONDS). */
  driftEvaluateSeconds: 60,
  /** FeatureDriftPsi: one custom metric per asset model (dimension AssetModel). */
  driftMetricsPerModel: 1,
} as const;

export type AssetModelId = keyof typeof WORKLOAD.models;

export interface CostInputs {
  readonly assets: number;
  readonly intervalSeconds: number;
  /** @default 1 */
  readonly samplesPerMessage?: number;
  /** @default 'provisioned' (lib/config.ts) */
  readonly streamMode?: 'on-demand' | 'provisioned';
  /** Shards per stream in provisioned mode (sets both). @default rawShards and cleanShards defaults */
  readonly shards?: number;
  /** Raw-stream shards. @default the fewest that carry the load */
  readonly rawShards?: number;
  /** Clean-stream shards. @default the fewest that carry the load and fit a features window in one batch ({@link recommendedCleanShards}) */
  readonly cleanShards?: number;
  /** @default 'in-lambda' (lib/config.ts) */
  readonly scoring?: 'endpoint' | 'in-lambda';
  /** Devices publish through IoT Core Basic Ingest: no messaging charge. @default true (lib/config.ts) */
  readonly basicIngest?: boolean;
  /** @default false (lib/config.ts) */
  readonly timestream?: boolean;
  /** Records per clean-function batch. @default config default (lib/config.ts) */
  readonly batchSize?: number;
  /** Clean-function batching window, s. @default config default */
  readonly batchingWindowSeconds?: number;
  /** Records per features-function batch. @default config default */
  readonly featuresBatchSize?: number;
  /** Features-function batching window, s. @default config default */
  readonly featuresBatchingWindowSeconds?: number;
  /** One twin write per asset per invocation (the handler) or one per sample (the naive design). @default true */
  readonly twinWritePerInvocation?: boolean;
  /** Health-change alerts per asset per month. @default 2 */
  readonly alertsPerAssetPerMonth?: number;
  /** Share of samples quarantined to S3. @default 0.005 */
  readonly quarantineShare?: number;
  /** Fleet mix; shares sum to 1. @default equal thirds */
  readonly mix?: Readonly<Partial<Record<AssetModelId, number>>>;
  /** Devices connected all month. @default true */
  readonly alwaysConnected?: boolean;
  /** Retraining runs a month (one asset model each; drift, schedule or manual). @default 0: retraining is on demand */
  readonly retrainsPerMonth?: number;
  /** Billed minutes of one ml.m5.large training job (SageMaker bills per second, start-up included). @default 10 */
  readonly trainingMinutesPerJob?: number;
}

export type Service =
  | 'iotCore' | 'kinesis' | 'lambda' | 'dynamodb' | 'timestream' | 'sagemaker'
  | 'eventbridge' | 'sns' | 's3' | 'cloudwatch' | 'kms' | 'history' | 'retraining';

export interface CostLine {
  readonly usd: number;
  /** What was counted, e.g. `{ messages: 43_800_000 }`. */
  readonly usage: Readonly<Record<string, number>>;
}

export interface CostResult {
  readonly inputs: Required<Omit<CostInputs, 'mix' | 'shards' | 'rawShards' | 'cleanShards'>> & {
    readonly mix: Record<string, number>;
    /** Raw-stream shards (= clean-stream shards unless they differ). */
    readonly shards: number;
    readonly rawShards: number;
    readonly cleanShards: number;
  };
  readonly totalUsdPerMonth: number;
  /**
   * Reference floor: the data's IoT Core messaging at list price + Timestream writes + raw-stream ingest
   * + history writes (Firehose ingest of the samples' history rows), what the data costs to get in and
   * stored at all through the broker. With Basic Ingest the stack does
   * not pay the messaging part; the floor keeps it as the yardstick of data volume (docs/cost.md).
   */
  readonly floorUsdPerMonth: number;
  readonly ratioToFloor: number;
  /** What this configuration pays to get the data in at all: messaging or (Basic Ingest) rules engine, + Timestream writes + raw ingest. */
  readonly paidFloorUsdPerMonth: number;
  readonly ratioToPaidFloor: number;
  readonly byService: Readonly<Record<Service, CostLine>>;
  readonly notes: readonly string[];
  readonly pricesDate: string;
  readonly region: string;
}

/**
 * Clean-stream shards that let one features batch hold a whole window of records per shard, so the
 * window, not the batch size, bounds the fold (records/s × window ÷ batch size, rounded up).
 */
export function recommendedCleanShards(cleanRecordsPerSecond: number, featuresWindowSeconds: number, featuresBatchSize: number): number {
  return Math.max(1, Math.ceil((cleanRecordsPerSecond * Math.max(featuresWindowSeconds, 1)) / featuresBatchSize));
}

/** Expected distinct values among `draws` uniform draws from `n`. */
function distinct(n: number, draws: number): number {
  if (draws <= 0 || n <= 0) return 0;
  // One asset (or less) per shard: every draw is that asset.
  if (n <= 1) return Math.min(n, draws);
  return n * (1 - (1 - 1 / n) ** draws);
}

const round2 = (x: number) => Math.round(x * 100) / 100;

/** Computes the monthly bill. @throws CostInputError on a non-positive or non-finite input. */
export function estimateCost(raw: CostInputs, book: PriceBook = loadPrices()): CostResult {
  const p = (key: string): number => {
    const price = book.prices[key];
    if (!price) throw new CostInputError(`prices.json has no price "${key}"`);
    return price.usd;
  };
  const k = raw.samplesPerMessage ?? 1;
  const inputs = {
    assets: raw.assets,
    intervalSeconds: raw.intervalSeconds,
    samplesPerMessage: k,
    streamMode: raw.streamMode ?? 'provisioned',
    scoring: raw.scoring ?? 'in-lambda',
    basicIngest: raw.basicIngest ?? true,
    timestream: raw.timestream ?? false,
    batchSize: raw.batchSize ?? CONSUMER_DEFAULTS.clean.batchSize,
    batchingWindowSeconds: raw.batchingWindowSeconds ?? CONSUMER_DEFAULTS.clean.maxBatchingWindowSeconds,
    featuresBatchSize: raw.featuresBatchSize ?? CONSUMER_DEFAULTS.features.batchSize,
    featuresBatchingWindowSeconds: raw.featuresBatchingWindowSeconds ?? CONSUMER_DEFAULTS.features.maxBatchingWindowSeconds,
    twinWritePerInvocation: raw.twinWritePerInvocation ?? true,
    alertsPerAssetPerMonth: raw.alertsPerAssetPerMonth ?? 2,
    quarantineShare: raw.quarantineShare ?? 0.005,
    alwaysConnected: raw.alwaysConnected ?? true,
    retrainsPerMonth: raw.retrainsPerMonth ?? 0,
    trainingMinutesPerJob: raw.trainingMinutesPerJob ?? 10,
  } as const;
  if (!Number.isFinite(inputs.assets) || inputs.assets < 0) throw new CostInputError(`assets must be a number ≥ 0, got ${String(inputs.assets)}`);
  for (const [name, v] of Object.entries({ intervalSeconds: inputs.intervalSeconds, samplesPerMessage: k, batchSize: inputs.batchSize, featuresBatchSize: inputs.featuresBatchSize })) {
    if (!Number.isFinite(v) || v <= 0) throw new CostInputError(`${name} must be a positive number, got ${String(v)}`);
  }
  for (const [name, v] of Object.entries({ retrainsPerMonth: inputs.retrainsPerMonth, trainingMinutesPerJob: inputs.trainingMinutesPerJob })) {
    if (!Number.isFinite(v) || v < 0) throw new CostInputError(`${name} must be a number ≥ 0, got ${String(v)}`);
  }
  if (!Number.isInteger(k)) throw new CostInputError(`samplesPerMessage must be an integer, got ${k}`);
  for (const [name, v] of Object.entries({ batchingWindowSeconds: inputs.batchingWindowSeconds, featuresBatchingWindowSeconds: inputs.featuresBatchingWindowSeconds })) {
    if (!(v >= 0 && v <= 300)) throw new CostInputError(`${name} must be within 0–300 s, got ${String(v)}`);
  }
  const mixIn = raw.mix ?? { 'centrifugal-pump': 1 / 3, 'industrial-machine': 1 / 3, turbofan: 1 / 3 };
  const mixSum = Object.values(mixIn).reduce((a, b) => a + (b ?? 0), 0);
  if (!(mixSum > 0)) throw new CostInputError('mix must have a positive share');
  const mix = Object.fromEntries(Object.entries(mixIn).map(([m, s]) => [m, (s ?? 0) / mixSum])) as Record<AssetModelId, number>;

  // At rest (no assets) only fixed costs remain; a billionth of an asset keeps the traffic formulas
  // finite while their dollars round to zero.
  const idle = inputs.assets === 0;
  const N = idle ? 1e-9 : inputs.assets;
  const samples = (N * SECONDS_PER_MONTH) / inputs.intervalSeconds;
  const messages = samples / k;
  const messageRate = messages / SECONDS_PER_MONTH;

  // Per-model averages weighted by the mix.
  let iotUnitsPerMsg = 0, rawRecBytes = 0, rawRecKb = 0, cleanItemBytes = 0, twinWru = 0, twinRru = 0, twinBytes = 0;
  let tsUnitsPerSample = 0, tsBytesPerSample = 0, endpointsTotal = 0;
  for (const [id, share] of Object.entries(mix) as [AssetModelId, number][]) {
    const w: ModelWorkload = WORKLOAD.models[id];
    const bytes = w.messageHeaderBytes + k * w.sampleBytes;
    iotUnitsPerMsg += share * Math.max(1, Math.ceil(bytes / (5 * KB)));
    // The rule's envelope: base64 of the payload plus topic and receivedAt.
    const rec = Math.ceil((bytes * 4) / 3) + 80;
    rawRecBytes += share * rec;
    rawRecKb += share * Math.ceil(rec / KB);
    cleanItemBytes += share * w.cleanItemBytes;
    twinWru += share * Math.ceil(w.twinBytes / KB);
    twinRru += share * Math.ceil(w.twinBytes / (4 * KB));
    twinBytes += share * w.twinBytes;
    tsUnitsPerSample += share * w.timestreamRowBytes.reduce((a, b) => a + Math.ceil(b / KB), 0);
    tsBytesPerSample += share * w.timestreamRowBytes.reduce((a, b) => a + b, 0);
    if (share > 0) endpointsTotal += w.predictors;
  }

  // Streams and batching. Records spread over shards by asset; the event source mapping invokes per shard
  // when the batch is full or the window ends, whichever first.
  const bytesRate = messageRate * rawRecBytes;
  const neededShards = Math.max(1, Math.ceil(bytesRate / (1024 * 1024)), Math.ceil(messageRate / 1000));
  const onDemand = inputs.streamMode === 'on-demand';
  const rawShards = onDemand ? Math.max(WORKLOAD.onDemandMinShards, neededShards) : Math.max(raw.rawShards ?? raw.shards ?? neededShards, 1);
  // Records are keyed by asset, so a shard with no asset gets no records and no invocations (it still
  // bills its stream-hours). With fewer assets than shards, only the active shards carry traffic.
  const activeShards = Math.min(rawShards, Math.max(1, Math.ceil(N)));
  const perShardRate = messageRate / activeShards;
  // Clean function: invoked per shard when its batch is full or its window ends, whichever first.
  const cleanInvPerShardPerSec = Math.min(perShardRate, Math.max(perShardRate / inputs.batchSize, 1 / Math.max(inputs.batchingWindowSeconds, 0.001)));
  const cleanInvocations = cleanInvPerShardPerSec * activeShards * SECONDS_PER_MONTH;
  const msgsPerInvocation = messages / cleanInvocations;
  const assetsPerShard = N / activeShards;
  const assetsPerInvocation = distinct(assetsPerShard, msgsPerInvocation);
  // One clean record per asset per clean invocation (packing), keyed by asset like the raw records.
  const cleanRecords = assetsPerInvocation * cleanInvocations;
  const cleanRecordBytes = (samples * cleanItemBytes) / cleanRecords;
  const cleanRecordRateTotal = cleanRecords / SECONDS_PER_MONTH;
  // Clean-stream shards: enough for throughput, and (provisioned default) enough that one window's
  // records fit in one batch per shard, so each asset's samples of a window fold into one twin write.
  const cleanShards = onDemand
    ? rawShards
    : Math.max(
        1,
        raw.cleanShards ?? raw.shards ?? Math.max(neededShards, recommendedCleanShards(cleanRecordRateTotal, inputs.featuresBatchingWindowSeconds, inputs.featuresBatchSize)),
      );
  const activeCleanShards = Math.min(cleanShards, Math.max(1, Math.ceil(N)));
  // Features function: its records arrive in bursts, one per clean invocation and clean shard. A window
  // shorter than the gap between bursts gives one invocation per burst (more if the batch size cuts
  // it); a longer one gathers several bursts, so an asset seen in several is folded and written once.
  const cleanRecordRate = cleanRecordRateTotal / activeCleanShards;
  const burstRate = cleanInvPerShardPerSec * activeShards;
  const featuresInvPerShardPerSec = Math.max(
    cleanRecordRate / inputs.featuresBatchSize,
    Math.min(burstRate, 1 / Math.max(inputs.featuresBatchingWindowSeconds, 0.001)),
  );
  const featuresInvocations = featuresInvPerShardPerSec * activeCleanShards * SECONDS_PER_MONTH;
  const recordsPerFeatures = cleanRecords / featuresInvocations;
  const messagesPerFeatures = messages / featuresInvocations;
  // Distinct assets among the messages a features invocation sees (never more than its records).
  const assetsPerFeatures = Math.min(recordsPerFeatures, distinct(N / activeCleanShards, messagesPerFeatures));
  const twinWrites = inputs.twinWritePerInvocation ? assetsPerFeatures * featuresInvocations : samples;
  const shards = rawShards;

  const notes: string[] = [];
  const line = (usd: number, usage: Record<string, number>): CostLine => ({ usd, usage });

  // IoT Core
  const iotMessagesBilled = messages * iotUnitsPerMsg;
  const connMinutes = inputs.alwaysConnected ? N * HOURS_PER_MONTH * 60 : 0;
  // Basic Ingest skips the broker: no messaging charge; the rule and its action are billed either way.
  const referenceMessaging = (iotMessagesBilled / 1e6) * p('iot.messagePerMillion');
  const iotMessaging = inputs.basicIngest ? 0 : referenceMessaging;
  const iotRules = (iotMessagesBilled / 1e6) * (p('iot.ruleTriggeredPerMillion') + p('iot.actionPerMillion'));
  const iot = line(iotMessaging + iotRules + (connMinutes / 1e6) * p('iot.connectivityPerMillionMinutes'), {
    messages, billedMessages: iotMessagesBilled, rulesAndActions: 2 * iotMessagesBilled, connectionMinutes: connMinutes,
  });

  // Kinesis
  const rawGb = (messages * rawRecBytes) / GB;
  const cleanGb = (cleanRecords * cleanRecordBytes) / GB;
  let kinesisUsd: number, rawIngestUsd: number;
  if (onDemand) {
    const rawBilledGb = (messages * rawRecKb * KB) / GB;
    const cleanBilledGb = (cleanRecords * Math.ceil(cleanRecordBytes / KB) * KB) / GB;
    rawIngestUsd = rawBilledGb * p('kinesis.onDemandIngestPerGb');
    kinesisUsd = 2 * HOURS_PER_MONTH * p('kinesis.onDemandStreamHour') + rawIngestUsd
      + cleanBilledGb * p('kinesis.onDemandIngestPerGb') + (rawGb + cleanGb) * p('kinesis.onDemandRetrievalPerGb');
  } else {
    const putUnits = messages * Math.ceil(rawRecBytes / (25 * KB));
    const cleanPutUnits = cleanRecords * Math.ceil(cleanRecordBytes / (25 * KB));
    rawIngestUsd = (putUnits / 1e6) * p('kinesis.putPayloadUnitsPerMillion');
    kinesisUsd = (rawShards + cleanShards) * HOURS_PER_MONTH * p('kinesis.shardHour') + rawIngestUsd + (cleanPutUnits / 1e6) * p('kinesis.putPayloadUnitsPerMillion');
  }
  const kinesis = line(kinesisUsd, { rawShards, cleanShards, rawGb, cleanGb, rawRecords: messages, cleanRecords });

  // Lambda (arm64): billed ms per invocation = I/O wait + compute scaled to the memory's CPU share.
  const coreMs = (n: number) => (WORKLOAD.coreMicrosPerMessage(k) * n) / 1000;
  const cleanMs = Math.ceil(WORKLOAD.cleanIoMs + coreMs(msgsPerInvocation) * WORKLOAD.cleanShare * (WORKLOAD.fullCpuMb / 512));
  const endpointMs = inputs.scoring === 'endpoint' ? WORKLOAD.endpointIoMs : 0;
  // Twin reads and writes go 8 assets at a time: past 8 assets the I/O wait grows with them.
  const featuresIo = WORKLOAD.featuresIoMs * Math.max(1, assetsPerFeatures / 8);
  const featuresMs = Math.ceil(featuresIo + endpointMs + coreMs(messagesPerFeatures) * (1 - WORKLOAD.cleanShare) * (WORKLOAD.fullCpuMb / 1024));
  const gbSeconds = (cleanInvocations * cleanMs * 0.5 + featuresInvocations * featuresMs * 1) / 1000;
  const lambda = line(((cleanInvocations + featuresInvocations) / 1e6) * p('lambda.requestPerMillion') + gbSeconds * p('lambda.arm64GbSecond'), {
    cleanInvocations, featuresInvocations, messagesPerInvocation: msgsPerInvocation, assetsPerFeaturesInvocation: assetsPerFeatures, cleanMs, featuresMs, gbSeconds,
  });

  // DynamoDB: twin put (WRU = ceil(item KB)) and consistent get per asset per invocation; registry reads
  // cached 60 s per container, eventually consistent, ≤ 4 KB.
  const messagesPerAsset = messages / N;
  const registryReads = 2 * N * Math.min(messagesPerAsset, HOURS_PER_MONTH * 60) * 0.5;
  const twinWruTotal = twinWrites * twinWru;
  const twinRruTotal = twinWrites * twinRru;
  const storageGb = (N * (twinBytes + 300)) / GB;
  // Drift counters: one ADD per asset model present in a features batch; one window read per container
  // (≈ clean shard) and asset model per evaluation interval. Nothing at rest: no batches, no reads.
  const modelsInMix = Object.values(mix).filter((s) => s > 0).length;
  const modelsPerFeatures = Math.min(modelsInMix, assetsPerFeatures);
  const driftWru = idle ? 0 : featuresInvocations * modelsPerFeatures * WORKLOAD.driftBucketWru;
  const driftRru = idle ? 0 : activeCleanShards * modelsInMix * (SECONDS_PER_MONTH / WORKLOAD.driftEvaluateSeconds) * WORKLOAD.driftWindowRru;
  const dynamodb = line(((twinWruTotal + driftWru) / 1e6) * p('dynamodb.writeRequestPerMillion') + ((twinRruTotal + registryReads + driftRru) / 1e6) * p('dynamodb.readRequestPerMillion')
    + Math.max(0, storageGb - 25) * p('dynamodb.storageGbMonth'), { twinWrites, writeUnits: twinWruTotal, readUnits: twinRruTotal + registryReads, driftWriteUnits: driftWru, driftReadUnits: driftRru, storageGb });

  // Timestream
  let timestreamUsd = 0, tsWrites = 0;
  if (inputs.timestream) {
    tsWrites = samples * tsUnitsPerSample;
    const monthGb = (samples * tsBytesPerSample) / GB;
    // Memory store holds 24 h (config default); magnetic accumulates: month-average of a year's fill ≈ 6.5 months' data.
    timestreamUsd = (tsWrites / 1e6) * p('timestream.writePerMillion1Kb') + (monthGb / 30) * HOURS_PER_MONTH * p('timestream.memoryStoreGbHour')
      + monthGb * 6.5 * p('timestream.magneticStoreGbMonth');
    notes.push('Timestream magnetic storage is the steady state of 365-day retention after the first year (~6.5 months of data on average in year one).');
  }
  const timestreamWriteUsd = (tsWrites / 1e6) * p('timestream.writePerMillion1Kb');
  const timestream = line(timestreamUsd, { writeUnits: tsWrites });

  // SageMaker serverless: per features invocation, one call per predictor of each asset model present,
  // carrying all of that model's rows (SageMakerScorer.scoreMany, ≤ 1,000 rows a call).
  let sagemakerUsd = 0, endpointCalls = 0;
  if (inputs.scoring === 'endpoint') {
    const perAsset = Object.entries(mix).reduce((a, [id, s]) => a + s * WORKLOAD.models[id as AssetModelId].predictors, 0);
    const rowsPerInvocation = samples / featuresInvocations;
    let callsPerInvocation = 0;
    for (const [id, share] of Object.entries(mix) as [AssetModelId, number][]) {
      if (share <= 0) continue;
      const present = 1 - (1 - share) ** Math.max(1, assetsPerFeatures);
      const chunks = Math.max(present, Math.ceil((rowsPerInvocation * share) / WORKLOAD.endpointRowsPerCall));
      callsPerInvocation += WORKLOAD.models[id].predictors * chunks;
    }
    endpointCalls = featuresInvocations * callsPerInvocation;
    const rowBytes = 1_200; // CSV row of 30–107 features
    const predictorRows = samples * perAsset;
    const dataGb = (predictorRows * rowBytes + endpointCalls * 200) / GB;
    const computeSeconds = (endpointCalls * WORKLOAD.endpointComputeMs + predictorRows * WORKLOAD.endpointMicrosPerRow / 1000) / 1000;
    sagemakerUsd = computeSeconds * 2 * p('sagemaker.serverlessGbSecond') + dataGb * p('sagemaker.serverlessDataPerGb');
  }
  const sagemaker = line(sagemakerUsd, { endpoints: inputs.scoring === 'endpoint' ? endpointsTotal : 0, calls: endpointCalls });

  // Alerts: EventBridge custom events (+ archive), SNS publish and email per alert.
  const alerts = N * inputs.alertsPerAssetPerMonth;
  const eventbridge = line((alerts / 1e6) * p('eventbridge.customEventPerMillion') + ((alerts * WORKLOAD.alertEventBytes) / GB) * p('eventbridge.archivePerGb'), { alerts });
  const sns = line((Math.max(0, alerts - 1e6) / 1e6) * p('sns.publishPerMillion') + (alerts / 1e5) * p('sns.emailPer100k'), { publishes: alerts, emails: alerts });

  // S3 quarantine: one object per reason per invocation that has any; assume each invocation with quarantined samples writes one.
  const quarantined = samples * inputs.quarantineShare;
  const quarantinePuts = Math.min(quarantined, cleanInvocations + featuresInvocations);
  const s3 = line((quarantinePuts / 1000) * p('s3.putPer1000') + ((quarantined * 600 * 3) / GB) * p('s3.storageGbMonth'), { puts: quarantinePuts });

  // CloudWatch: custom metrics, alarms, dashboard, Lambda logs.
  const logGb = ((cleanInvocations + featuresInvocations) * WORKLOAD.logBytesPerInvocation) / GB;
  // Custom metrics are billed only while the handlers publish them, i.e. not at rest.
  const customMetrics = idle ? 0 : WORKLOAD.customMetrics + WORKLOAD.driftMetricsPerModel * Object.values(mix).filter((s) => s > 0).length;
  const alarms = WORKLOAD.alarms + (inputs.scoring === 'endpoint' ? 2 + endpointsTotal : 0);
  const cloudwatch = line(customMetrics * p('cloudwatch.metricMonth') + Math.max(0, alarms - 10) * p('cloudwatch.alarmMetricMonth')
    + logGb * p('cloudwatch.logsIngestPerGb') + logGb * p('cloudwatch.logsStorageGbMonth'), { customMetrics, alarms, logGb });
  const kms = line(p('kms.keyMonth'), { keys: 1 });

  // History store (Firehose → Iceberg, Athena): lib/cost/history.ts.
  const rowBytes = Object.entries(mix).reduce((a, [id, sh]) => a + sh * WORKLOAD.models[id as AssetModelId].timestreamRowBytes.reduce((x, y) => x + y, 0), 0);
  // At rest nothing is delivered (no Firehose files) and nobody queries an idle fleet's history.
  const hist = historyCost({
    samplesPerMonth: samples,
    rowBytesPerSample: rowBytes,
    ...(idle ? { queriesPerMonth: 0, filesPerMonth: 0 } : {}),
  });
  const history = line(hist.usd, { ingestGb: hist.usage.ingestGb, storedGb: hist.usage.storedGb, athenaQueries: hist.usage.queries });
  notes.push('History: Firehose $0.075/GB to Iceberg [derived], Parquet at 0.2 of the JSON bytes and 12 months kept [assumed], 3,000 Athena queries at the 10 MB minimum [assumed]; see docs/history.md.');
  // Retraining (lib/stacks/lifecycle-stack.ts): nothing at rest but the drift alarms (counted above);
  // each run pays its training jobs and state transitions. Its Lambda seconds are a rounding error.
  const jobs = inputs.retrainsPerMonth * WORKLOAD.retrainJobsPerRun;
  const transitions = inputs.retrainsPerMonth * WORKLOAD.retrainTransitions(WORKLOAD.retrainJobsPerRun);
  const retraining = line(
    ((jobs * inputs.trainingMinutesPerJob) / 60) * p('sagemaker.trainingMl5LargeHour') + (Math.max(0, transitions - 4_000) / 1000) * p('stepfunctions.transitionPer1000'),
    { runs: inputs.retrainsPerMonth, trainingJobs: jobs, transitions },
  );
  const byService = { iotCore: iot, kinesis, lambda, dynamodb, timestream, sagemaker, eventbridge, sns, s3, cloudwatch, kms, history, retraining };
  const total = Object.values(byService).reduce((a, l) => a + l.usd, 0);
  // Writing the samples' history is part of getting the data in and stored at all, as the Timestream
  // writes always were: the history store's ingest (Firehose) joins the floor; its storage and queries
  // stay above it (docs/cost.md, "The floor and the history store").
  const historyWriteUsd = idle ? 0 : hist.parts.firehose;
  const floor = referenceMessaging + timestreamWriteUsd + rawIngestUsd + historyWriteUsd;
  const paidFloor = (inputs.basicIngest ? iotRules : iotMessaging) + timestreamWriteUsd + rawIngestUsd + historyWriteUsd;
  notes.push(
    `floor = IoT messaging at list price $${round2(referenceMessaging)}${inputs.basicIngest ? ' (not paid: Basic Ingest)' : ''} + Timestream writes $${round2(timestreamWriteUsd)} + raw-stream ingest $${round2(rawIngestUsd)} + history writes $${round2(historyWriteUsd)}; paid floor $${round2(paidFloor)} (${inputs.basicIngest ? 'rules engine' : 'messaging'} instead of list-price messaging)`,
    `clean: ${round2(msgsPerInvocation)} messages and ${round2(assetsPerInvocation)} assets per invocation; features: ${round2(assetsPerFeatures)} assets per invocation, ${round2(twinWrites / N)} twin writes of ${round2(twinWru)} WRU per asset per month`,
    'Lambda duration: core compute from `pdm bench` scaled to the memory CPU share, plus assumed I/O wait (clean 15 ms, features 30 ms, +40 ms with endpoints); not measured on AWS.',
    'Free tiers ignored except those that never expire for CloudWatch (10 metrics, 10 alarms) and DynamoDB storage (25 GB).',
  );
  return {
    inputs: { ...inputs, mix, shards, rawShards, cleanShards },
    totalUsdPerMonth: round2(total),
    floorUsdPerMonth: round2(floor),
    ratioToFloor: floor >= 0.01 ? Math.round((total / floor) * 100) / 100 : Number.POSITIVE_INFINITY,
    paidFloorUsdPerMonth: round2(paidFloor),
    ratioToPaidFloor: paidFloor >= 0.01 ? Math.round((total / paidFloor) * 100) / 100 : Number.POSITIVE_INFINITY,
    byService: Object.fromEntries(Object.entries(byService).map(([s, l]) => [s, { usd: round2(l.usd), usage: l.usage }])) as Record<Service, CostLine>,
    notes,
    pricesDate: book.readOn,
    region: book.region,
  };
}
