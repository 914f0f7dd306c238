/**
 * Per-feature training ranges of the shipped model bundle, for the what-if's "no basis" check: the
 * lowest and highest value each feature took in the rows the predictors were fitted on (fit and
 * validation rows; test rows are left out, as the models never saw them). The bundle's manifest does
 * not carry them, so they are recomputed from the trainers' own data builders and stored next to the
 * what-if in `feature-ranges.json`, keyed by the training data hash the manifest records: a bundle
 * trained on other data is recognised as having no known ranges instead of being checked against stale ones.
 *
 * Regenerate after retraining: `npx tsx local/dashboard/feature-ranges.ts` (`--check` exits 1 when the
 * file would change).
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { z } from 'zod';
import { buildAzureDesign, loadAzure } from '../../ml/datasets/azure.ts';
import { parseCmapss } from '../../ml/datasets/cmapss.ts';
import { buildPumpDataset, type PumpRows } from '../../ml/train/pump.ts';
import { VALID_FROM } from '../../ml/train/industrial-machine.ts';
import { replayCmapss } from '../../ml/train/turbofan.ts';

export const FEATURE_RANGES_FILE = fileURLToPath(new URL('./feature-ranges.json', import.meta.url));

const rangeSchema = z.tuple([z.number(), z.number()]).refine(([lo, hi]) => lo <= hi, 'min ≤ max');

/** `feature-ranges.json`: per asset model, the training data hash and each feature's [min, max]. */
export const featureRangesSchema = z.record(
  z.string(),
  z.strictObject({
    trainingDataHash: z.string().min(1),
    rows: z.number().int().positive(),
    source: z.string(),
    /** `null`: the feature was never defined in training (e.g. time since a maintenance that never happened). */
    ranges: z.record(z.string(), rangeSchema.nullable()),
  }),
);
export type FeatureRanges = z.infer<typeof featureRangesSchema>;

/** The stored ranges file is missing, not JSON, or not in the expected shape. */
export class FeatureRangesFileError extends Error {
  override readonly name: string = 'FeatureRangesFileError';
}

/** Reads and validates `feature-ranges.json` (or another file of that shape). */
export function readFeatureRanges(path = FEATURE_RANGES_FILE): FeatureRanges {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new FeatureRangesFileError(`cannot read feature ranges ${path}: ${(e as Error).message}`);
  }
  const parsed = featureRangesSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new FeatureRangesFileError(`feature ranges ${path}: ${issue?.path.join('.')}: ${issue?.message}`);
  }
  return parsed.data;
}

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
