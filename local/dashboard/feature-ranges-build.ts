/**
 * Recomputes `local/dashboard/feature-ranges.json` (see `feature-ranges.ts`) from the trainers' own data
 * builders: `npx tsx local/dashboard/feature-ranges-build.ts` after retraining (`--check` exits 1 when the
 * file would change; about 35 s).
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { buildAzureDesign, loadAzure } from '../../ml/datasets/azure.ts';
import { parseCmapss } from '../../ml/datasets/cmapss.ts';
import { VALID_FROM } from '../../ml/train/industrial-machine.ts';
import { buildPumpDataset, type PumpRows } from '../../ml/train/pump.ts';
import { replayCmapss } from '../../ml/train/turbofan.ts';
import { FEATURE_RANGES_FILE, type FeatureRanges } from './feature-ranges.ts';

/** Column-wise [min, max] of the finite values of a row-major matrix. */
function columnRanges(
  names: readonly string[],
  rows: Iterable<ArrayLike<number>>,
): { ranges: Record<string, [number, number] | null>; rows: number } {
  const lo = new Float64Array(names.length).fill(Infinity);
  const hi = new Float64Array(names.length).fill(-Infinity);
  let n = 0;
  for (const row of rows) {
    n += 1;
    for (let j = 0; j < names.length; j++) {
      const v = row[j]!;
      if (!Number.isFinite(v)) continue;
      if (v < lo[j]!) lo[j] = v;
      if (v > hi[j]!) hi[j] = v;
    }
  }
  const ranges: Record<string, [number, number] | null> = {};
  names.forEach((name, j) => {
    ranges[name] = lo[j]! <= hi[j]! ? [lo[j]!, hi[j]!] : null;
  });
  return { ranges, rows: n };
}

function* matrixRows(x: ArrayLike<number>, n: number, width: number, keep: (i: number) => boolean = () => true) {
  for (let i = 0; i < n; i++) {
    if (!keep(i)) continue;
    yield Array.from({ length: width }, (_, j) => x[i * width + j]!);
  }
}

/** Recomputes the ranges from the trainers' data: the C-MAPSS and Azure files under `dataDir`. */
export function computeFeatureRanges(dataDir: string): FeatureRanges {
  const out: FeatureRanges = {};

  const pump = buildPumpDataset();
  const width = pump.featureNames.length;
  const pumpRows = (r: PumpRows) => matrixRows(r.x, r.n, width);
  const pumpFit = columnRanges(pump.featureNames, (function* () {
    yield* pumpRows(pump.train);
    yield* pumpRows(pump.valid);
  })());
  out['centrifugal-pump'] = {
    trainingDataHash: pump.hash,
    rows: pumpFit.rows,
    source: `${pump.description}; train and validation pumps`,
    ranges: pumpFit.ranges,
  };

  const cmapssPath = join(dataDir, 'cmapss', 'train_FD001.txt');
  const bytes = readFileSync(cmapssPath);
  const set = replayCmapss(parseCmapss(bytes.toString('utf8'), cmapssPath));
  const engines = columnRanges(set.names, set.engines.flatMap((e) => e.vectors));
  out.turbofan = {
    trainingDataHash: createHash('sha256').update(bytes).digest('hex'),
    rows: engines.rows,
    source: 'NASA C-MAPSS train_FD001.txt, every engine replayed through the feature engine',
    ranges: engines.ranges,
  };

  const azure = loadAzure(join(dataDir, 'azure_pdm'));
  const d = buildAzureDesign(azure);
  // The shipped predictors are refitted on every row once validated (see ml/train/industrial-machine.ts).
  const machine = columnRanges(d.names, matrixRows(d.x, d.n, d.names.length));
  out['industrial-machine'] = {
    trainingDataHash: azure.sha256,
    rows: machine.rows,
    source: `Azure PdM machines 1–20, 2015-01-01 → 2015-04-01 (validation from ${new Date(VALID_FROM).toISOString().slice(0, 10)})`,
    ranges: machine.ranges,
  };
  return out;
}

const isMain = process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isMain) {
  const check = process.argv.includes('--check');
  const dataDir = fileURLToPath(new URL('../../../shared/data/', import.meta.url));
  const fresh = JSON.parse(JSON.stringify(computeFeatureRanges(dataDir))) as FeatureRanges;
  let old: unknown;
  try {
    old = JSON.parse(readFileSync(FEATURE_RANGES_FILE, 'utf8'));
  } catch {
    old = undefined;
  }
  if (isDeepStrictEqual(old, fresh)) process.exit(0);
  if (check) {
    process.stderr.write(`stale: ${FEATURE_RANGES_FILE}\n`);
    process.exit(1);
  }
  writeFileSync(FEATURE_RANGES_FILE, `${JSON.stringify(fresh, null, 1)}\n`);
  process.stdout.write(`wrote ${FEATURE_RANGES_FILE}\n`);
}
