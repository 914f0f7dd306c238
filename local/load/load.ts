/**
 * `pdm load`: a bounded, self-stopping sustained load on the embedded local runtime. A fleet
 * simulator (realism off, several samples per message) publishes over the local MQTT broker at a
 * paced readings/s for a fixed duration, then the pipeline is drained and the run is accounted:
 * every published sample must be either stored as telemetry or quarantined with a reason.
 *
 * Everything listens on 127.0.0.1 (the runtime's stand-ins); nothing leaves the machine.
 */
import { type DeviceMessage, FleetSimulator } from '../../devices/fleet.ts';
import { type RunSummary, startLocalRuntime } from '../runtime/runtime.ts';

/** Longest run accepted, seconds: the command must stop by itself within an hour. */
export const MAX_DURATION_S = 3_600;
/** Highest paced rate accepted, readings/s (far above what one local process sustains). */
export const MAX_READINGS_PER_SEC = 100_000;
export const MAX_ASSETS = 1_000;
/** Memory is sampled this often, ms. */
export const MEMORY_EVERY_MS = 5_000;

export interface LoadOptions {
  /** Target readings per second (a reading is one sensor value). @default 2000 */
  readonly readingsPerSec?: number;
  /** Publishing time, seconds (the drain afterwards is extra). @default 600 */
  readonly durationSec?: number;
  /** Simulated assets. @default 50 */
  readonly assets?: number;
  /** Samples per MQTT message (device-side buffering). @default 10 */
  readonly samplesPerMessage?: number;
  /** Fleet and simulator seed. @default 1 */
  readonly seed?: number;
  /** Longest wait for the pipeline to catch up after publishing, ms. @default 300000 */
  readonly drainTimeoutMs?: number;
  /** Called with a progress line every memory sample. @default none */
  readonly onProgress?: (p: LoadProgress) => void;
}

export interface MemorySample {
  /** Seconds since the load started. */
  readonly t: number;
  readonly rssMb: number;
  readonly heapUsedMb: number;
  /** Memory of ArrayBuffers and Buffers (outside the V8 heap, inside `external`). */
  readonly arrayBuffersMb: number;
}

export interface LoadProgress extends MemorySample {
  readonly publishedReadings: number;
}

export interface LoadReport {
  readonly target: { readingsPerSec: number; durationSec: number; assets: number; samplesPerMessage: number };
  readonly published: { messages: number; samples: number; readings: number; refused: number; seconds: number };
  /** Published readings per second of publishing time. */
  readonly achievedReadingsPerSec: number;
  /** Clean readings per second, over publishing + drain. */
  readonly processedReadingsPerSec: number;
  readonly drainSeconds: number;
  readonly samples: { received: number; clean: number; quarantined: number; stored: number };
  /**
   * Published samples that never reached the clean function, plus clean samples missing from the
   * telemetry store. Must be 0.
   */
  readonly lost: number;
  readonly latencyMs: RunSummary['latencyMs'];
  readonly memory: {
    readonly rssMb: { min: number; max: number; last: number };
    readonly heapUsedMb: { min: number; max: number; last: number };
    readonly arrayBuffersMb: { min: number; max: number; last: number };
    readonly series: readonly MemorySample[];
  };
  readonly onFailure: number;
  readonly retriedBatches: number;
}

/** An option outside the command's bounds. */
export class LoadOptionsError extends Error {
  override readonly name: string = 'LoadOptionsError';
}

export function validateLoadOptions(o: LoadOptions): Required<Omit<LoadOptions, 'onProgress'>> {
  const v = {
    readingsPerSec: o.readingsPerSec ?? 2_000,
    durationSec: o.durationSec ?? 600,
    assets: o.assets ?? 50,
    samplesPerMessage: o.samplesPerMessage ?? 10,
    seed: o.seed ?? 1,
    drainTimeoutMs: o.drainTimeoutMs ?? 300_000,
  };
  const check = (ok: boolean, what: string) => {
    if (!ok) throw new LoadOptionsError(what);
  };
  check(v.readingsPerSec > 0 && v.readingsPerSec <= MAX_READINGS_PER_SEC, `readings per second must be in (0, ${MAX_READINGS_PER_SEC}]`);
  check(v.durationSec > 0 && v.durationSec <= MAX_DURATION_S, `duration must be in (0, ${MAX_DURATION_S}] seconds`);
  check(Number.isInteger(v.assets) && v.assets >= 1 && v.assets <= MAX_ASSETS, `assets must be an integer in [1, ${MAX_ASSETS}]`);
  check(Number.isInteger(v.samplesPerMessage) && v.samplesPerMessage >= 1 && v.samplesPerMessage <= 100, 'samples per message must be an integer in [1, 100]');
  return v;
}

const mb = (bytes: number) => Math.round((bytes / 1_048_576) * 10) / 10;

function sampleMemory(t0: number): MemorySample {
  const m = process.memoryUsage();
  return { t: Math.round((performance.now() - t0) / 100) / 10, rssMb: mb(m.rss), heapUsedMb: mb(m.heapUsed), arrayBuffersMb: mb(m.arrayBuffers) };
}

function range(values: readonly number[]): { min: number; max: number; last: number } {
  return { min: Math.min(...values), max: Math.max(...values), last: values[values.length - 1] ?? Number.NaN };
}

/** Samples and readings of a telemetry payload (the simulator's own output, so it parses). */
function countOf(payload: string): { samples: number; readings: number } {
  const body = JSON.parse(payload) as { readings?: object; samples?: { readings: object }[] };
  if (body.samples) return { samples: body.samples.length, readings: body.samples.reduce((n, s) => n + Object.keys(s.readings).length, 0) };
  return body.readings ? { samples: 1, readings: Object.keys(body.readings).length } : { samples: 0, readings: 0 };
}

/** Runs the load and returns its report; the runtime is stopped whatever happens. */
export async function runLoad(options: LoadOptions = {}): Promise<LoadReport> {
  const o = validateLoadOptions(options);
  const rt = await startLocalRuntime({ assets: o.assets, seed: o.seed, logLevel: 'SILENT' });
  const t0 = performance.now();
  const memory: MemorySample[] = [sampleMemory(t0)];
  const published = { messages: 0, samples: 0, readings: 0, refused: 0, seconds: 0 };
  const timer = setInterval(() => {
    const s = sampleMemory(t0);
    memory.push(s);
    options.onProgress?.({ ...s, publishedReadings: published.readings });
  }, MEMORY_EVERY_MS);
  try {
    const host = new URL(rt.brokerUrl).hostname;
    if (host !== '127.0.0.1' && host !== 'localhost') throw new LoadOptionsError(`broker is not on loopback: ${rt.brokerUrl}`);
    const sim = new FleetSimulator(rt.fleetAssets, { seed: o.seed, samplesPerMessage: o.samplesPerMessage });
    const endAt = t0 + o.durationSec * 1000;
    // Every asset's buffer fills on the same tick, so a tick's messages come as one burst: they are
    // queued and released message by message against the target line, which keeps the rate even.
    const queue: { m: DeviceMessage; samples: number; readings: number }[] = [];
    for (let now = performance.now(); now < endAt; now = performance.now()) {
      if (queue.length === 0) {
        rt.setClock(sim.now + 1_000);
        for (const m of sim.step()) queue.push({ m, ...(m.topic.endsWith('/telemetry') ? countOf(m.payload) : { samples: 0, readings: 0 }) });
        continue;
      }
      const due = ((now - t0) / 1000) * o.readingsPerSec;
      const batch: typeof queue = [];
      for (let r = published.readings; queue.length > 0 && r < due; ) {
        const next = queue.shift()!;
        r += next.readings;
        batch.push(next);
      }
      if (batch.length === 0) {
        await sleep(Math.min(20, ((published.readings - due) / o.readingsPerSec) * 1000));
        continue;
      }
      const outcomes = await Promise.all(batch.map(async (b) => ({ b, outcome: await rt.publishAs(b.m.assetId, b.m.topic, b.m.payload) })));
      for (const { b, outcome } of outcomes) {
        if (outcome !== 'accepted') {
          published.refused += 1;
          continue;
        }
        published.messages += 1;
        published.samples += b.samples;
        published.readings += b.readings;
      }
    }
    published.seconds = Math.round((performance.now() - t0) / 100) / 10;
    const drainStart = performance.now();
    await rt.drain(o.drainTimeoutMs);
    const drainSeconds = Math.round((performance.now() - drainStart) / 100) / 10;
    const s = await rt.summary();
    memory.push(sampleMemory(t0));
    const stored = s.telemetryRows.telemetry;
    return {
      target: { readingsPerSec: o.readingsPerSec, durationSec: o.durationSec, assets: o.assets, samplesPerMessage: o.samplesPerMessage },
      published,
      achievedReadingsPerSec: Math.round(published.readings / Math.max(published.seconds, 1e-9)),
      processedReadingsPerSec: Math.round(s.readings.clean / Math.max((performance.now() - t0) / 1000, 1e-9)),
      drainSeconds,
      samples: { received: s.samples.received, clean: s.samples.clean, quarantined: s.samples.quarantined, stored },
      // Never reached the clean function, or cleaned but not stored (screening quarantines come after storing).
      lost: Math.max(0, published.samples - s.samples.received) + Math.max(0, s.samples.clean - stored),
      latencyMs: s.latencyMs,
      memory: {
        rssMb: range(memory.map((m) => m.rssMb)),
        heapUsedMb: range(memory.map((m) => m.heapUsedMb)),
        arrayBuffersMb: range(memory.map((m) => m.arrayBuffersMb)),
        series: memory,
      },
      onFailure: s.onFailure,
      retriedBatches: s.retriedBatches,
    };
  } finally {
    clearInterval(timer);
    await rt.stop();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(1, ms)));
}
