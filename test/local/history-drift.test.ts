import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { describe, expect, it, vi } from 'vitest';
import { HistoryTelemetryStore } from '../../lambdas/adapters/history.ts';
import { historyDirOf, ParquetHistoryStore } from '../../lambdas/adapters/local/history-parquet.ts';
import type { FeaturePoint } from '../../lambdas/adapters/ports.ts';
import type { FeatureRow } from '../../lambdas/core/twin/twin.ts';
import { register } from '../../local/history/drift.ts';
import { ENGINE_NAMES, fixtureBundleDir, randomVectors } from '../ml/bundle/fixtures.ts';

const HOUR = 3_600_000;

/** A local data dir whose features table holds `n` pump rows per hour for `hours` hours, each feature + `shift`. */
async function history(hours: number, n: number, shift: number): Promise<string> {
  const dataDir = mkdtempSync(join(tmpdir(), 'pdm-drift-hist-'));
  const store = await ParquetHistoryStore.open({ dir: historyDirOf(dataDir), flushMs: 0 });
  const sink = new HistoryTelemetryStore(store, { featureEngine: 'features-2' });
  const vectors = randomVectors(hours * n, 99);
  const points: FeaturePoint[] = vectors.map((v, i) => {
    const row = { seq: i + 1, ts: Date.UTC(2026, 0, 1) + Math.floor(i / n) * HOUR + (i % n), t: i, vector: v.map((x) => x + shift), anomaly: { score: 0 } };
    return { assetId: `pump-${i % 3}`, siteId: 's', modelId: 'centrifugal-pump', row: row as unknown as FeatureRow, names: ENGINE_NAMES };
  });
  await sink.writeFeatures(points);
  await store.close();
  return dataDir;
}

async function driftJson(args: string[]): Promise<{ threshold: number; models: { assetModel: string; psi: number | null; feature: string | null; rows: number }[] }> {
  const out: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((s) => {
    out.push(String(s));
    return true;
  });
  try {
    const program = new Command().exitOverride();
    register(program);
    await program.parseAsync(['node', 'pdm', 'drift', ...args, '--model-dir', fixtureBundleDir(), '--json']);
  } finally {
    spy.mockRestore();
  }
  return JSON.parse(out.join(''));
}

describe('pdm drift', () => {
  it('prints a low PSI for vectors like the training data and a high one, naming a feature, for shifted ones', async () => {
    const same = await driftJson(['--data-dir', await history(4, 200, 0), '--window', '4h', '--min-count', '500']);
    const shifted = await driftJson(['--data-dir', await history(4, 200, 6), '--window', '4h', '--min-count', '500']);

    expect(same.threshold).toBe(0.2);
    expect(same.models).toHaveLength(1);
    expect(same.models[0]!.assetModel).toBe('centrifugal-pump');
    expect(same.models[0]!.rows).toBe(800);
    expect(same.models[0]!.psi).toBeLessThan(0.1);
    expect(shifted.models[0]!.psi).toBeGreaterThan(0.2);
    expect(shifted.models[0]!.feature).not.toBeNull();
  });

  it('counts only the window ending at the newest row, and has no PSI below the minimum count', async () => {
    const dir = await history(4, 200, 0);

    const oneHour = await driftJson(['--data-dir', dir, '--window', '1h', '--min-count', '500']);

    // The newest hour holds 200 rows (plus the boundary row of the hour before).
    expect(oneHour.models[0]!.rows).toBeLessThanOrEqual(201);
    expect(oneHour.models[0]!.psi).toBeNull();
  });

  it('has no PSI while the history covers too few of the window\'s hours', async () => {
    const day = await driftJson(['--data-dir', await history(4, 200, 6), '--window', '24h', '--min-count', '500']);

    expect(day.models[0]!.rows).toBe(800);
    expect(day.models[0]!.psi).toBeNull();
  });
});
