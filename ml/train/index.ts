/**
 * Trains every asset model's predictors. Each trainer returns `AssetModelPredictors` for one asset model;
 * `ml/bundle/write.ts` turns the list into the bundle.
 */
import { join } from 'node:path';
import { trainIndustrialMachinePredictors } from './industrial-machine.ts';
import { trainPumpPredictors } from './pump.ts';
import { trainTurbofanPredictors } from './turbofan.ts';
import type { AssetModelPredictors } from './types.ts';

export type { AssetModelPredictors, PredictorArtifact, PredictorKind } from './types.ts';

export interface TrainAllOptions {
  /** Root of the benchmark data sets (C-MAPSS, Azure PdM). @default '../shared/data' */
  readonly dataDir: string;
  /** @default 1 */
  readonly seed?: number;
  /** Asset model ids to train; all when omitted. */
  readonly only?: readonly string[];
  /** Progress lines. @default none */
  readonly log?: (line: string) => void;
  /** Called before each selected trainer runs and once at the end, with finished/total counts. */
  readonly onProgress?: (done: number, total: number, modelId: string | null) => void;
}

interface TrainerContext {
  /** The benchmark data root (`../shared/data`); each trainer reads its own data set folder under it. */
  readonly dataDir: string;
  readonly seed: number;
  readonly log: (line: string) => void;
}

/** One entry per asset model; a new trainer is one line here. */
export const TRAINERS: readonly { readonly modelId: string; readonly train: (c: TrainerContext) => AssetModelPredictors }[] = [
  { modelId: 'centrifugal-pump', train: ({ seed, log }) => trainPumpPredictors({ seed, log }) },
  { modelId: 'turbofan', train: ({ dataDir, seed }) => trainTurbofanPredictors({ dataDir: join(dataDir, 'cmapss'), seed }) },
  {
    modelId: 'industrial-machine',
    train: ({ dataDir, seed }) => trainIndustrialMachinePredictors({ dataDir: join(dataDir, 'azure_pdm'), seed }),
  },
];

export class UnknownTrainerError extends Error {
  override readonly name: string = 'UnknownTrainerError';
}

/** Trains the selected asset models in catalog-independent, fixed order. */
export function trainAll(opts: TrainAllOptions): AssetModelPredictors[] {
  const log = opts.log ?? (() => {});
  const known = TRAINERS.map((t) => t.modelId);
  const unknown = (opts.only ?? []).filter((id) => !known.includes(id));
  if (unknown.length > 0) {
    throw new UnknownTrainerError(`no trainer for ${unknown.join(', ')}; trainers: ${known.join(', ')}`);
  }
  const ctx: TrainerContext = { dataDir: opts.dataDir, seed: opts.seed ?? 1, log };
  const out: AssetModelPredictors[] = [];
  const selected = TRAINERS.filter((t) => !opts.only || opts.only.length === 0 || opts.only.includes(t.modelId));
  for (const t of selected) {
    opts.onProgress?.(out.length, selected.length, t.modelId);
    const started = performance.now();
    log(`training ${t.modelId}…`);
    out.push(t.train(ctx));
    log(`${t.modelId}: done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
  opts.onProgress?.(out.length, selected.length, null);
  return out;
}
