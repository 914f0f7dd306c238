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
    turbofan: { messageHeaderBytes: 78, sampleBytes: 385.1, cleanItemBytes: 522, twinBytes: 3074, timestreamRowBytes: [420, 6_770, 200], predictors: 2 },
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
  alarms: 22,
  /** Kinesis on-demand streams start at 4 shards' capacity. */
  onDemandMinShards: 4,
  /** Bytes of a TwinHealthChanged event. */
  alertEventBytes: 1_500,
} as const;

export type AssetModelId = keyof typeof WORKLOAD.models;

export interface CostInputs {
  readonly assets: number;
  readonly intervalSeconds: number;
  /** @default 1 */
  readonly samplesPerMessage?: number;
  /** @default 'on-demand' */
  readonly streamMode?: 'on-demand' | 'provisioned';
  /** Shards per stream in provisioned mode. @default the fewest that carry the load */
  readonly shards?: number;
  /** @default 'endpoint' */
  readonly scoring?: 'endpoint' | 'in-lambda';
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
}

export type Service =
  | 'iotCore' | 'kinesis' | 'lambda' | 'dynamodb' | 'timestream' | 'sagemaker'
  | 'eventbridge' | 'sns' | 's3' | 'cloudwatch' | 'kms' | 'history';

export interface CostLine {
  readonly usd: number;
  /** What was counted, e.g. `{ messages: 43_800_000 }`. */
  readonly usage: Readonly<Record<string, number>>;
}

export interface CostResult {
  readonly inputs: Required<Omit<CostInputs, 'mix' | 'shards'>> & { readonly mix: Record<string, number>; readonly shards: number };
  readonly totalUsdPerMonth: number;
  /** IoT messaging + Timestream writes + raw-stream ingest: what the data costs to get in and stored at all. */
  readonly floorUsdPerMonth: number;
  readonly ratioToFloor: number;
  readonly byService: Readonly<Record<Service, CostLine>>;
  readonly notes: readonly string[];
  readonly pricesDate: string;
  readonly region: string;
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
    streamMode: raw.streamMode ?? 'on-demand',
    scoring: raw.scoring ?? 'endpoint',
    timestream: raw.timestream ?? false,
    batchSize: raw.batchSize ?? CONSUMER_DEFAULTS.clean.batchSize,
    batchingWindowSeconds: raw.batchingWindowSeconds ?? CONSUMER_DEFAULTS.clean.maxBatchingWindowSeconds,
    featuresBatchSize: raw.featuresBatchSize ?? CONSUMER_DEFAULTS.features.batchSize,
    featuresBatchingWindowSeconds: raw.featuresBatchingWindowSeconds ?? CONSUMER_DEFAULTS.features.maxBatchingWindowSeconds,
    twinWritePerInvocation: raw.twinWritePerInvocation ?? true,
    alertsPerAssetPerMonth: raw.alertsPerAssetPerMonth ?? 2,
    quarantineShare: raw.quarantineShare ?? 0.005,
    alwaysConnected: raw.alwaysConnected ?? true,
  } as const;
  for (const [name, v] of Object.entries({ assets: inputs.assets, intervalSeconds: inputs.intervalSeconds, samplesPerMessage: k, batchSize: inputs.batchSize, featuresBatchSize: inputs.featuresBatchSize })) {
    if (!Number.isFinite(v) || v <= 0) throw new CostInputError(`${name} must be a positive number, got ${String(v)}`);
  }
  if (!Number.isInteger(k)) throw new CostInputError(`samplesPerMessage must be an integer, got ${k}`);
  for (const [name, v] of Object.entries({ batchingWindowSeconds: inputs.batchingWindowSeconds, featuresBatchingWindowSeconds: inputs.featuresBatchingWindowSeconds })) {
    if (!(v >= 0 && v <= 300)) throw new CostInputError(`${name} must be within 0–300 s, got ${String(v)}`);
  }
  const mixIn = raw.mix ?? { 'centrifugal-pump': 1 / 3, 'industrial-machine': 1 / 3, turbofan: 1 / 3 };
  const mixSum = Object.values(mixIn).reduce((a, b) => a + (b ?? 0), 0);
  if (!(mixSum > 0)) throw new CostInputError('mix must have a positive share');
  const mix = Object.fromEntries(Object.entries(mixIn).map(([m, s]) => [m, (s ?? 0) / mixSum])) as Record<AssetModelId, number>;

  const N = inputs.assets;
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
  const shards = inputs.streamMode === 'on-demand' ? Math.max(WORKLOAD.onDemandMinShards, neededShards) : Math.max(raw.shards ?? neededShards, 1);
  // Records are keyed by asset, so a shard with no asset gets no records and no invocations (it still
  // bills its stream-hours). With fewer assets than shards, only `activeShards` carry traffic.
  const activeShards = Math.min(shards, Math.max(1, Math.ceil(N)));
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
  // Features function: its records arrive in bursts, one per clean invocation. A window shorter than
  // the gap between bursts gives one invocation per burst (more if the batch size cuts it); a longer
  // one gathers several bursts, so an asset seen in several is folded and written once.
  const cleanRecordRate = cleanRecords / (activeShards * SECONDS_PER_MONTH);
  const featuresInvPerShardPerSec = Math.max(
    cleanRecordRate / inputs.featuresBatchSize,
    Math.min(cleanInvPerShardPerSec, 1 / Math.max(inputs.featuresBatchingWindowSeconds, 0.001)),
  );
  const featuresInvocations = featuresInvPerShardPerSec * activeShards * SECONDS_PER_MONTH;
  const recordsPerFeatures = cleanRecords / featuresInvocations;
  const burstsPerFeatures = recordsPerFeatures / assetsPerInvocation;
  const assetsPerFeatures = burstsPerFeatures < 1 ? recordsPerFeatures : distinct(assetsPerShard, msgsPerInvocation * burstsPerFeatures);
  const messagesPerFeatures = messages / featuresInvocations;
  const twinWrites = inputs.twinWritePerInvocation ? assetsPerFeatures * featuresInvocations : samples;

  const notes: string[] = [];
  const line = (usd: number, usage: Record<string, number>): CostLine => ({ usd, usage });

  // IoT Core
  const iotMessagesBilled = messages * iotUnitsPerMsg;
  const connMinutes = inputs.alwaysConnected ? N * HOURS_PER_MONTH * 60 : 0;
  const iotMessaging = (iotMessagesBilled / 1e6) * p('iot.messagePerMillion');
  const iotRules = (iotMessagesBilled / 1e6) * (p('iot.ruleTriggeredPerMillion') + p('iot.actionPerMillion'));
  const iot = line(iotMessaging + iotRules + (connMinutes / 1e6) * p('iot.connectivityPerMillionMinutes'), {
    messages, billedMessages: iotMessagesBilled, rulesAndActions: 2 * iotMessagesBilled, connectionMinutes: connMinutes,
  });

  // Kinesis
  const rawGb = (messages * rawRecBytes) / GB;
  const cleanGb = (cleanRecords * cleanRecordBytes) / GB;
  let kinesisUsd: number, rawIngestUsd: number;
  if (inputs.streamMode === 'on-demand') {
    const rawBilledGb = (messages * rawRecKb * KB) / GB;
    const cleanBilledGb = (cleanRecords * Math.ceil(cleanRecordBytes / KB) * KB) / GB;
    rawIngestUsd = rawBilledGb * p('kinesis.onDemandIngestPerGb');
    kinesisUsd = 2 * HOURS_PER_MONTH * p('kinesis.onDemandStreamHour') + rawIngestUsd
      + cleanBilledGb * p('kinesis.onDemandIngestPerGb') + (rawGb + cleanGb) * p('kinesis.onDemandRetrievalPerGb');
  } else {
    const putUnits = messages * Math.ceil(rawRecBytes / (25 * KB));
    const cleanPutUnits = cleanRecords * Math.ceil(cleanRecordBytes / (25 * KB));
    rawIngestUsd = (putUnits / 1e6) * p('kinesis.putPayloadUnitsPerMillion');
    kinesisUsd = 2 * shards * HOURS_PER_MONTH * p('kinesis.shardHour') + rawIngestUsd + (cleanPutUnits / 1e6) * p('kinesis.putPayloadUnitsPerMillion');
  }
  const kinesis = line(kinesisUsd, { shardsPerStream: shards, rawGb, cleanGb, rawRecords: messages, cleanRecords });

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
  const dynamodb = line((twinWruTotal / 1e6) * p('dynamodb.writeRequestPerMillion') + ((twinRruTotal + registryReads) / 1e6) * p('dynamodb.readRequestPerMillion')
    + Math.max(0, storageGb - 25) * p('dynamodb.storageGbMonth'), { twinWrites, writeUnits: twinWruTotal, readUnits: twinRruTotal + registryReads, storageGb });

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
  const cloudwatch = line(WORKLOAD.customMetrics * p('cloudwatch.metricMonth') + Math.max(0, WORKLOAD.alarms - 10) * p('cloudwatch.alarmMetricMonth')
    + logGb * p('cloudwatch.logsIngestPerGb') + logGb * p('cloudwatch.logsStorageGbMonth'), { customMetrics: WORKLOAD.customMetrics, alarms: WORKLOAD.alarms, logGb });
  const kms = line(p('kms.keyMonth'), { keys: 1 });

  // History store (Firehose → Iceberg, Athena): lib/cost/history.ts.
  const rowBytes = Object.entries(mix).reduce((a, [id, sh]) => a + sh * WORKLOAD.models[id as AssetModelId].timestreamRowBytes.reduce((x, y) => x + y, 0), 0);
  const hist = historyCost({ samplesPerMonth: samples, rowBytesPerSample: rowBytes });
  const history = line(hist.usd, { ingestGb: hist.usage.ingestGb, storedGb: hist.usage.storedGb, athenaQueries: hist.usage.queries });
  notes.push('History: Firehose $0.075/GB to Iceberg [derived], Parquet at 0.2 of the JSON bytes and 12 months kept [assumed], 3,000 Athena queries at the 10 MB minimum [assumed]; see docs/history.md.');
  const byService = { iotCore: iot, kinesis, lambda, dynamodb, timestream, sagemaker, eventbridge, sns, s3, cloudwatch, kms, history };
  const total = Object.values(byService).reduce((a, l) => a + l.usd, 0);
  const floor = iotMessaging + timestreamWriteUsd + rawIngestUsd;
  notes.push(
    `floor = IoT messaging $${round2(iotMessaging)} + Timestream writes $${round2(timestreamWriteUsd)} + raw-stream ingest $${round2(rawIngestUsd)}`,
    `clean: ${round2(msgsPerInvocation)} messages and ${round2(assetsPerInvocation)} assets per invocation; features: ${round2(assetsPerFeatures)} assets per invocation, ${round2(twinWrites / N)} twin writes of ${round2(twinWru)} WRU per asset per month`,
    'Lambda duration: core compute from `pdm bench` scaled to the memory CPU share, plus assumed I/O wait (clean 15 ms, features 30 ms, +40 ms with endpoints); not measured on AWS.',
    'Free tiers ignored except those that never expire for CloudWatch (10 metrics, 10 alarms) and DynamoDB storage (25 GB).',
  );
  return {
    inputs: { ...inputs, mix, shards },
    totalUsdPerMonth: round2(total),
    floorUsdPerMonth: round2(floor),
    ratioToFloor: floor > 0 ? Math.round((total / floor) * 100) / 100 : Number.POSITIVE_INFINITY,
    byService: Object.fromEntries(Object.entries(byService).map(([s, l]) => [s, { usd: round2(l.usd), usage: l.usage }])) as Record<Service, CostLine>,
    notes,
    pricesDate: book.readOn,
    region: book.region,
  };
}
