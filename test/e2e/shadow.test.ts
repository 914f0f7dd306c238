import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { historyDirOf, ParquetHistoryStore } from '../../lambdas/adapters/local/history-parquet.ts';
import { compareShadow, formatCompare } from '../../local/history/compare.ts';
import { startLocalRuntime } from '../../local/runtime/runtime.ts';
import { promote, registerBundle, shadow } from '../../ml/registry/store.ts';
import { fixtureBundle, tempRegistry } from '../ml/registry/fixtures.ts';

const FAST = 1e7;
const dirs: string[] = [];
const tmp = (prefix: string) => {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('local runtime with a shadow challenger (end to end)', () => {
  it('writes challenger rows next to the champion rows, and pdm models compare reads them back', async () => {
    // Arrange: a registry whose pump champion (seed 7) is shadowed by a retrained version (seed 8).
    const registry = tempRegistry();
    const git = { commit: null, dirty: null };
    const [champion, challenger] = [7, 8].map(
      (seed) => registerBundle(registry, fixtureBundle({ seed }), { source: () => ({ kind: 'train', seed }), git }).versions[0]!.id,
    );
    const modelDir = join(registry, '..', 'model');
    promote(registry, champion!, { bundleDir: modelDir });
    shadow(registry, challenger!, { bundleDir: modelDir });
    const dataDir = tmp('pdm-shadow-data-');

    // Act: a short simulated run of three pumps, then the comparison over its history.
    const rt = await startLocalRuntime({ assets: 3, seed: 3, fleet: { models: ['centrifugal-pump'] }, modelDir, dataDir, logLevel: 'SILENT' });
    try {
      await rt.simulate({ speed: FAST, ticks: 40 });
      await rt.drain(60_000);
    } finally {
      await rt.stop();
    }
    const history = await ParquetHistoryStore.openForRead(historyDirOf(dataDir));
    try {
      const roles = await history.query('select role, count(distinct seq) as n, count(distinct asset_id) as assets from predictions where model_version is not null group by role order by role');
      const report = await compareShadow(history, 'duckdb', { bundleDir: modelDir, registryDir: registry });

      // Assert: every scored row has a challenger row, and the report names both registry versions.
      expect(roles.map((r) => r.role)).toEqual(['challenger', 'champion']);
      expect(roles[0]!.n).toBe(roles[1]!.n);
      expect(Number(roles[0]!.assets)).toBe(3);
      expect(report.comparisons).toHaveLength(1);
      const c = report.comparisons[0]!;
      expect(c.challengerId).toBe(challenger);
      expect(c.championVersions.map((v) => v.id)).toEqual([champion]);
      expect(c.predictors.map((p) => p.predictor)).toEqual(['failure', 'rul']);
      for (const p of c.predictors) {
        expect(p.rows).toBe(c.rows);
        expect(p.agreement).toBeGreaterThanOrEqual(0);
        expect(p.agreement).toBeLessThanOrEqual(1);
        expect(p.meanAbsDiff).toBeGreaterThan(0);
      }
      // 40 ten-minute ticks are shorter than the 24 h horizon: nothing is labelled yet.
      expect(c.predictors[0]!.labels.rows).toBe(0);
      expect(formatCompare(report).join('\n')).toMatch(new RegExp(`challenger ${challenger}`));
    } finally {
      await history.close();
    }
  }, 120_000);
});
