/**
 * Per-feature training ranges of the shipped model bundle, for the what-if's "no basis" check: the
 * lowest and highest value each feature took in the rows the predictors were fitted on (fit and
 * validation rows; test rows are left out, as the models never saw them). The bundle's manifest does
 * not carry them, so `feature-ranges-build.ts` recomputes them from the trainers' own data builders and
 * stores them next to the what-if in `feature-ranges.json`, keyed by the training data hash the manifest
 * records: a bundle trained on other data is recognised as having no known ranges instead of being
 * checked against stale ones. This module only reads them (no trainer code is loaded with the dashboard).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

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
