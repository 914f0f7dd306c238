/** Small registries for tests: the fast fixture pump models with chosen metrics, never the real trainers. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeBundle } from '../../../ml/bundle/write.ts';
import type { AssetModelPredictors } from '../../../ml/train/types.ts';
import { fixturePredictors } from '../bundle/fixtures.ts';

const trained = new Map<number, AssetModelPredictors>();

export interface FixtureMetrics {
  readonly prAuc?: number;
  readonly rmseHours?: number;
  /** Another training data set: its metrics are not comparable with the default one's. */
  readonly dataHash?: string;
  /** Model seed: another seed gives other model files. @default 7 */
  readonly seed?: number;
}

/** A temporary bundle folder of the pump fixture whose failure/rul entries report the given metrics. */
export function fixtureBundle(m: FixtureMetrics = {}): string {
  const seed = m.seed ?? 7;
  if (!trained.has(seed)) trained.set(seed, fixturePredictors(seed));
  const base = trained.get(seed)!;
  const set: AssetModelPredictors = {
    modelId: base.modelId,
    predictors: base.predictors.map((p) => ({
      ...p,
      trainingDataHash: m.dataHash ?? 'fixture-data',
      metrics: (p.kind === 'rul'
        ? { rmseHours: m.rmseHours ?? 40, testRows: 100 }
        : { prAuc: m.prAuc ?? 0.9, testRows: 100 }) as Record<string, number>,
    })),
  };
  const dir = mkdtempSync(join(tmpdir(), 'pdm-fixture-bundle-'));
  writeBundle(dir, [set], { createdAt: '2026-01-01T00:00:00.000Z' });
  return dir;
}

export function tempRegistry(): string {
  return join(mkdtempSync(join(tmpdir(), 'pdm-registry-')), 'models');
}
