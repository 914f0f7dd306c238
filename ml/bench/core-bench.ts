/**
 * Core micro-benchmark: readings/s through clean + screen + features + anomaly + twin on one core,
 * next to the decode-only floor (base64 decode + JSON.parse of the same Kinesis records), as a ratio.
 *
 * Records are what the raw stream carries: base64 device payloads from the simulated fleet, delivered
 * in batches of 100 as Lambda's event source mapping would. Twins are kept in memory (no I/O), so the
 * figure is the compute cost of the core, which is what the ratio compares with the floor.
 */

import { createFleet, FleetSimulator, fleetLookup } from '../../devices/fleet.ts';
import { cleanMessage } from '../../lambdas/core/cleaning/index.ts';
import type { RawMessage } from '../../lambdas/core/pipeline.ts';
import { processMessages } from '../../lambdas/core/pipeline.ts';
import type { Twin } from '../../lambdas/core/twin/twin.ts';
import { defaultBaselineFor as baselineFor } from '../../lambdas/core/anomaly/index.ts';

export interface CoreBenchOptions {
  readonly records: number;
  readonly samplesPerMessage: number;
  readonly passes: number;
  /** Records per handler invocation. @default 100 */
  readonly batchSize?: number;
  /** @default 20 */
  readonly assets?: number;
}

export interface CoreBenchResult {
  readonly records: number;
  readonly samplesPerMessage: number;
  readonly readings: number;
  readonly batchSize: number;
  readonly assets: number;
  readonly passes: number;
  readonly coreReadingsPerSec: number;
  readonly decodeOnlyReadingsPerSec: number;
  readonly ratio: number;
  /** Stage breakdown: decode + cleaning alone (no screening, features, anomaly or twin). */
  readonly cleanOnlyReadingsPerSec: number;
  readonly coreMicrosPerMessage: number;
  readonly decodeMicrosPerMessage: number;
  readonly node: string;
}

interface Record64 {
  readonly topic: string;
  readonly data: string;
  /** When the message would reach the cloud: just after its last sample. */
  readonly receivedAt: number;
}

function makeRecords(options: CoreBenchOptions): {
  records: Record64[];
  readings: number;
  lookup: ReturnType<typeof fleetLookup>;
} {
  const fleet = createFleet({ assets: options.assets ?? 20, seed: 7, failingShare: 0.25 });
  const sim = new FleetSimulator(fleet, { seed: 7, samplesPerMessage: options.samplesPerMessage });
  const records: Record64[] = [];
  let readings = 0;
  while (records.length < options.records) {
    const receivedAt = sim.now + 1_000;
    for (const m of sim.step()) {
      if (records.length >= options.records) break;
      records.push({ topic: m.topic, data: Buffer.from(m.payload).toString('base64'), receivedAt });
      const parsed = JSON.parse(m.payload) as { readings?: object; samples?: { readings: object }[] };
      if (parsed.samples) for (const s of parsed.samples) readings += Object.keys(s.readings).length;
      else if (parsed.readings) readings += Object.keys(parsed.readings).length;
    }
  }
  return { records, readings, lookup: fleetLookup(fleet) };
}

function decodeOnly(records: readonly Record64[]): number {
  let sink = 0;
  for (const r of records) {
    const value = JSON.parse(Buffer.from(r.data, 'base64').toString('utf8')) as { seq?: number };
    sink += value.seq ?? 1;
  }
  return sink;
}

function cleanPass(records: readonly Record64[], lookup: ReturnType<typeof fleetLookup>): number {
  let clean = 0;
  for (let j = 0; j < records.length; j++) {
    const r = records[j]!;
    const payload = Buffer.from(r.data, 'base64');
    clean += cleanMessage(
      { topic: r.topic, payload, messageId: String(j), receivedAt: r.receivedAt },
      { lookupAsset: lookup },
    ).samples.length;
  }
  return clean;
}

function corePass(
  records: readonly Record64[],
  lookup: ReturnType<typeof fleetLookup>,
  batchSize: number,
): number {
  let twins = new Map<string, Twin>();
  let rows = 0;
  for (let i = 0; i < records.length; i += batchSize) {
    const batch: RawMessage[] = [];
    for (let j = i; j < Math.min(records.length, i + batchSize); j++) {
      const r = records[j]!;
      batch.push({
        topic: r.topic,
        payload: Buffer.from(r.data, 'base64'),
        messageId: String(j),
        receivedAt: r.receivedAt,
      });
    }
    const result = processMessages(batch, twins, { lookupAsset: lookup, baselineFor });
    if (result.twins.size > 0) {
      twins = new Map(twins);
      for (const [id, twin] of result.twins) twins.set(id, twin);
    }
    rows += result.rows;
  }
  return rows;
}

function best(passes: number, fn: () => unknown): number {
  fn(); // warm-up: JIT and caches
  let bestMs = Number.POSITIVE_INFINITY;
  for (let p = 0; p < passes; p++) {
    const t0 = performance.now();
    fn();
    bestMs = Math.min(bestMs, performance.now() - t0);
  }
  return bestMs;
}

export function runCoreBench(options: CoreBenchOptions): CoreBenchResult {
  const batchSize = options.batchSize ?? 100;
  const { records, readings, lookup } = makeRecords(options);
  const decodeMs = best(options.passes, () => decodeOnly(records));
  const coreMs = best(options.passes, () => corePass(records, lookup, batchSize));
  const cleanMs = best(options.passes, () => cleanPass(records, lookup));
  const coreReadingsPerSec = Math.round(readings / (coreMs / 1000));
  const decodeOnlyReadingsPerSec = Math.round(readings / (decodeMs / 1000));
  return {
    records: records.length,
    samplesPerMessage: options.samplesPerMessage,
    readings,
    batchSize,
    assets: options.assets ?? 20,
    passes: options.passes,
    coreReadingsPerSec,
    decodeOnlyReadingsPerSec,
    ratio: Math.round((coreReadingsPerSec / decodeOnlyReadingsPerSec) * 1000) / 1000,
    cleanOnlyReadingsPerSec: Math.round(readings / (cleanMs / 1000)),
    coreMicrosPerMessage: Math.round(((coreMs * 1000) / records.length) * 10) / 10,
    decodeMicrosPerMessage: Math.round(((decodeMs * 1000) / records.length) * 10) / 10,
    node: process.version,
  };
}

export function formatCoreBench(r: CoreBenchResult): string {
  return [
    `records ${r.records} (${r.samplesPerMessage} samples/message, ${r.readings} readings, batches of ${r.batchSize}, ${r.assets} assets), best of ${r.passes}`,
    `decode-only floor   ${r.decodeOnlyReadingsPerSec.toLocaleString('en-US')} readings/s  (${r.decodeMicrosPerMessage} µs/message)`,
    `decode + cleaning   ${r.cleanOnlyReadingsPerSec.toLocaleString('en-US')} readings/s`,
    `core pipeline       ${r.coreReadingsPerSec.toLocaleString('en-US')} readings/s  (${r.coreMicrosPerMessage} µs/message)`,
    `ratio core/floor    ${r.ratio}`,
  ].join('\n');
}
