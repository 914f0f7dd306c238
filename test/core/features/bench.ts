/**
 * Throughput and state-size figures for docs/features.md (not a test: timings vary by machine).
 * Run: npx tsx test/core/features/bench.ts
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AssetModel } from '../../../lambdas/core/catalog/index.ts';
import { CENTRIFUGAL_PUMP, INDUSTRIAL_MACHINE, TURBOFAN } from '../../../lambdas/core/catalog/index.ts';
import {
  createFeatureState,
  featureNames,
  featureStateBytes,
  featureVector,
  updateFeatureState,
} from '../../../lambdas/core/features/index.ts';

const CTX = { previousAnomaly: 0.1, lastMaintenance: {}, firstSeen: 0, attributes: {} };
const DATA = join(import.meta.dirname, '../../../../shared/data');

/** Deterministic pseudo-random numbers (mulberry32), so runs are comparable. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function synthetic(model: AssetModel, count: number, step: number, decimals: number | null) {
  const rand = rng(42);
  const names = Object.keys(model.sensors);
  return Array.from({ length: count }, (_, i) => {
    const readings: Record<string, number> = {};
    for (const n of names) {
      const spec = model.sensors[n]!;
      const x = spec.min + (spec.max - spec.min) * (0.4 + 0.2 * rand());
      readings[n] = decimals === null ? x : Number(x.toFixed(decimals));
    }
    return { t: 1_735_689_600_000 + i * step, readings };
  });
}

function cmapss() {
  const names = Object.keys(TURBOFAN.sensors);
  return readFileSync(join(DATA, 'cmapss/train_FD001.txt'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => line.trim().split(/\s+/).map(Number))
    .map((cols) => ({
      unit: cols[0]!,
      t: cols[1]!,
      readings: Object.fromEntries(names.map((n, i) => [n, cols[2 + i]!])),
    }));
}

function azure() {
  const lines = readFileSync(
    join(DATA, 'azure_pdm/PdM_telemetry_machines001-020_2015-01-01_to_2015-04-01.csv'),
    'utf8',
  )
    .trim()
    .split('\n');
  const header = lines[0]!.split(',');
  return lines
    .slice(1)
    .map((l) => l.split(','))
    .filter((c) => c[header.indexOf('machineID')] === '1')
    .map((c) => ({
      t: Date.parse(`${c[header.indexOf('datetime')]!.replace(' ', 'T')}Z`),
      readings: {
        volt: Number(c[header.indexOf('volt')]),
        rotate: Number(c[header.indexOf('rotate')]),
        pressure: Number(c[header.indexOf('pressure')]),
        vibration: Number(c[header.indexOf('vibration')]),
      },
    }));
}

function measure(
  label: string,
  model: AssetModel,
  samples: ReadonlyArray<{ t: number; readings: Record<string, number> }>,
) {
  let state = createFeatureState(model);
  let maxBytes = 0;
  for (const [i, s] of samples.entries()) {
    updateFeatureState(state, model, s.t, s.readings);
    if (i % 97 === 0) maxBytes = Math.max(maxBytes, JSON.stringify(state).length);
  }
  const finalBytes = JSON.stringify(state).length;
  maxBytes = Math.max(maxBytes, finalBytes);
  // Throughput over a long replay (repeat the stream shifted in time).
  const rounds = Math.max(1, Math.ceil(200_000 / samples.length));
  const span = samples.at(-1)!.t - samples[0]!.t + 1;
  state = createFeatureState(model);
  let start = performance.now();
  for (let r = 0; r < rounds; r++) {
    const shift = r * span;
    for (const s of samples) updateFeatureState(state, model, s.t + shift, s.readings);
  }
  const updates = (rounds * samples.length) / ((performance.now() - start) / 1000);
  const out = new Float64Array(featureNames(model).length);
  const now = samples.at(-1)!.t + (rounds - 1) * span;
  const vectorsN = 100_000;
  start = performance.now();
  for (let i = 0; i < vectorsN; i++) featureVector(state, model, now, CTX, out);
  const vectors = vectorsN / ((performance.now() - start) / 1000);
  console.log(
    `${label.padEnd(44)} features ${String(out.length).padStart(3)}  state max ${maxBytes} B, final ${finalBytes} B, bound ${featureStateBytes(model)} B  ${Math.round(updates).toLocaleString('en')} updates/s  ${Math.round(vectors).toLocaleString('en')} vectors/s`,
  );
}

const engines = cmapss();
const engine1 = engines.filter((s) => s.unit === 1);
measure('turbofan, C-MAPSS FD001 engine 1', TURBOFAN, engine1);
measure(
  'turbofan, full-precision synthetic, 1/cycle',
  TURBOFAN,
  synthetic(TURBOFAN, 400, 1, null).map((s, i) => ({ ...s, t: i + 1 })),
);
measure('pump, 1/min, 2 decimals', CENTRIFUGAL_PUMP, synthetic(CENTRIFUGAL_PUMP, 20_000, 60_000, 2));
measure('pump, 1/min, full precision', CENTRIFUGAL_PUMP, synthetic(CENTRIFUGAL_PUMP, 20_000, 60_000, null));
measure('pump, 1/s, 2 decimals', CENTRIFUGAL_PUMP, synthetic(CENTRIFUGAL_PUMP, 200_000, 1_000, 2));
measure('industrial machine, Azure PdM machine 1 hourly', INDUSTRIAL_MACHINE, azure());
measure(
  'industrial machine, 1/min, full precision',
  INDUSTRIAL_MACHINE,
  synthetic(INDUSTRIAL_MACHINE, 20_000, 60_000, null),
);
