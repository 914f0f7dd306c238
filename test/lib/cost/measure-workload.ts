/**
 * Measures the workload figures the cost model takes as constants: device message size per asset model
 * and samples per message, clean-item size, and the stored twin item size (encodeTwinItem) once its windows are full.
 * Run: `npx tsx test/lib/cost/measure-workload.ts [--interval-s 60] [--ticks 2000]`
 */
import { createFleet, FleetSimulator, fleetLookup } from '../../../devices/fleet.ts';
import { defaultBaselineFor } from '../../../lambdas/core/anomaly/index.ts';
import { processMessages, type RawMessage } from '../../../lambdas/core/pipeline.ts';
import type { Twin } from '../../../lambdas/core/twin/twin.ts';
import { encodeTwinItem, itemBytes } from '../../../lambdas/adapters/aws/dynamodb.ts';
import { encodeCleanItem, encodeRawRecord } from '../../../lambdas/adapters/records.ts';
import { cleanMessage } from '../../../lambdas/core/cleaning/index.ts';

export interface ModelWorkload {
  readonly modelId: string;
  /** Mean bytes IoT Core meters for one message (payload + topic), by samples per message. */
  readonly messageBytes: Record<number, number>;
  /** Mean raw-stream record bytes (the rule's base64 envelope), by samples per message. */
  readonly rawRecordBytes: Record<number, number>;
  /** Mean bytes of one clean item (one sample) on the clean stream, newline included. */
  readonly cleanItemBytes: number;
  /** Largest stored twin item (bytes) seen after the windows filled. */
  readonly twinBytesMax: number;
  readonly twinBytesMean: number;
}

export function measureWorkload(options: { intervalMs: number; ticks: number; ks: readonly number[] }): ModelWorkload[] {
  const fleet = createFleet({ assets: 6, seed: 3, failingShare: 0 });
  const lookup = fleetLookup(fleet);
  const byModel = new Map<string, { msg: Record<number, number[]>; raw: Record<number, number[]>; clean: number[]; twin: number[] }>();
  const entry = (modelId: string) => {
    let e = byModel.get(modelId);
    if (!e) byModel.set(modelId, (e = { msg: {}, raw: {}, clean: [], twin: [] }));
    return e;
  };
  const modelOf = new Map(fleet.map((a) => [a.assetId, a.modelId]));
  for (const k of options.ks) {
    const sim = new FleetSimulator(fleet, { seed: 3, samplesPerMessage: k, intervalMs: options.intervalMs });
    for (let t = 0; t < Math.max(k * 5, 50); t++) {
      for (const m of sim.step()) {
        const e = entry(modelOf.get(m.assetId) ?? '?');
        (e.msg[k] ??= []).push(Buffer.byteLength(m.payload) + Buffer.byteLength(m.topic));
        (e.raw[k] ??= []).push(encodeRawRecord(m.topic, m.payload, sim.now).byteLength);
        if (k === 1) {
          const cleaned = cleanMessage({ topic: m.topic, payload: m.payload, messageId: '1', receivedAt: sim.now }, { lookupAsset: lookup });
          for (const s of cleaned.samples) e.clean.push(Buffer.byteLength(encodeCleanItem({ kind: 'sample', sample: s })) + 1);
        }
      }
    }
  }
  // Twins: fold single-sample messages tick by tick; sizes counted in the last quarter (windows full).
  const sim = new FleetSimulator(fleet, { seed: 3, samplesPerMessage: 1, intervalMs: options.intervalMs });
  let twins = new Map<string, Twin>();
  for (let t = 0; t < options.ticks; t++) {
    const batch: RawMessage[] = sim.step().map((m, i) => ({ topic: m.topic, payload: m.payload, messageId: `${t}-${i}`, receivedAt: sim.now }));
    const r = processMessages(batch, twins, { lookupAsset: lookup, baselineFor: defaultBaselineFor });
    twins = new Map([...twins, ...r.twins]);
    if (t >= (options.ticks * 3) / 4) for (const [id, tw] of twins) entry(modelOf.get(id) ?? '?').twin.push(itemBytes(encodeTwinItem(tw)));
  }
  const mean = (xs: readonly number[]) => Math.round(xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length));
  const meanBy = (r: Record<number, number[]>) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, mean(v)]));
  return [...byModel].map(([modelId, e]) => ({
    modelId,
    messageBytes: meanBy(e.msg),
    rawRecordBytes: meanBy(e.raw),
    cleanItemBytes: mean(e.clean),
    twinBytesMax: Math.max(...e.twin),
    twinBytesMean: mean(e.twin),
  }));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const arg = (name: string, d: number) => {
    const i = process.argv.indexOf(name);
    return i >= 0 ? Number(process.argv[i + 1]) : d;
  };
  const out = measureWorkload({ intervalMs: arg('--interval-s', 60) * 1000, ticks: arg('--ticks', 2000), ks: [1, 10, 60] });
  process.stdout.write(`${JSON.stringify(out, null, 1)}\n`);
}
