import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { DriftScenario } from '../../devices/scenario.ts';
import { DEFAULT_PSI_THRESHOLD, hourOf } from '../../lambdas/core/drift/index.ts';
import { type RunSummary, startLocalRuntime } from '../../local/runtime/runtime.ts';

const FAST = 1e7; // simulated seconds per real second: as fast as the broker takes messages
const PUMP = 'centrifugal-pump';
const TICKS = 864; // six simulated days of 10-minute ticks
const DRIFT_AT = 432; // the shift at day 3
const TICK_MS = 600_000;
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Six wearing pumps, seed 1 (the lifecycle test's fleet), with or without the drift scenario. */
async function run(scenario?: DriftScenario): Promise<RunSummary> {
  const dataDir = mkdtempSync(join(tmpdir(), 'pdm-drift-e2e-'));
  dirs.push(dataDir);
  const rt = await startLocalRuntime({
    assets: 6,
    seed: 1,
    dataDir,
    fleet: { models: [PUMP], failingShare: 1 },
    ...(scenario ? { scenario } : {}),
    logLevel: 'SILENT',
  });
  try {
    await rt.simulate({ speed: FAST, ticks: TICKS });
    await rt.drain();
    return await rt.summary();
  } finally {
    await rt.stop();
  }
}

describe('drift alarm (end to end)', () => {
  it('stays quiet on a healthy fleet and fires after the drift scenario shifts the same fleet', async () => {
    // Act: the same fleet and seed twice; every pump wears and is replaced in both runs.
    const quiet = await run();
    const drifted = await run({ name: 'drift', atTick: DRIFT_AT });

    // Assert: the default run has PSIs (the window filled) but never reached the threshold.
    expect(quiet.drift.latest[PUMP]?.psi).not.toBeNull();
    expect(quiet.drift.peak[PUMP]!.psi).toBeLessThan(DEFAULT_PSI_THRESHOLD);
    expect(quiet.drift.alarms).toEqual([]);

    // Assert: the drifted run alarms once, on a window that ends after the shift began.
    const end = Date.parse(drifted.sim!.clock);
    const driftHour = hourOf(end - (drifted.sim!.tick - DRIFT_AT) * TICK_MS);
    expect(drifted.drift.alarms).toHaveLength(1);
    const [alarm] = drifted.drift.alarms;
    expect(alarm).toMatchObject({ assetModel: PUMP, threshold: DEFAULT_PSI_THRESHOLD });
    expect(alarm!.psi).toBeGreaterThan(DEFAULT_PSI_THRESHOLD);
    expect(alarm!.window.toHour).toBeGreaterThanOrEqual(driftHour);
  }, 120_000);
});
