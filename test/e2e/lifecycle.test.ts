import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DRIFT_EVENT, hourOf } from '../../lambdas/core/drift/index.ts';
import { readBundle } from '../../ml/bundle/read.ts';
import { diffVersions } from '../../ml/cli/models.ts';
import { PromotionRefusedError, promote, readAliases, readVersion, rollback } from '../../ml/registry/store.ts';
import { retrain } from '../../local/history/retrain.ts';
import { DRIFT_ALARMS_FILE } from '../../local/runtime/drift-alarm.ts';
import { startLocalRuntime } from '../../local/runtime/runtime.ts';

const FAST = 1e7; // simulated seconds per real second: as fast as the broker takes messages
const ROOT = join(import.meta.dirname, '..', '..');
const PUMP = 'centrifugal-pump';
const dirs: string[] = [];
const tmp = (prefix: string) => {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('model lifecycle (end to end)', () => {
  it('runs drift → alarm on the local bus → retrain from the history → diff → promote or a refusal with a recorded override → rollback', async () => {
    // Arrange: six wearing pumps, the fleet shifts at day 3 of 6; a registry copied from the repo's.
    const dataDir = tmp('pdm-lifecycle-data-');
    const registry = join(tmp('pdm-lifecycle-reg-'), 'models');
    cpSync(join(ROOT, 'models'), registry, { recursive: true });
    const bundleDir = join(tmp('pdm-lifecycle-bundle-'), 'model');
    const champion = readAliases(registry).champions[PUMP]!;
    // The retrain registers the next version after those the repo's registry holds.
    const nextVersion = `${PUMP}@${readdirSync(join(registry, PUMP)).filter((f) => f.endsWith('.json')).length + 1}`;
    const rt = await startLocalRuntime({
      assets: 6,
      seed: 1,
      dataDir,
      fleet: { models: [PUMP], failingShare: 1 },
      scenario: { name: 'drift', atTick: 432 },
      logLevel: 'SILENT',
    });

    // Act 1: six simulated days through the real handlers.
    let alarms;
    let driftHour: number;
    try {
      await rt.simulate({ speed: FAST, ticks: 864 });
      await rt.drain();
      const summary = await rt.summary();
      alarms = summary.drift.alarms;
      driftHour = hourOf(Date.parse(summary.sim!.clock) - (summary.sim!.tick - 432) * 600_000);
    } finally {
      await rt.stop();
    }

    // Assert 1: the emulated alarm put ModelDriftDetected on the bus (the bus accepted it) and logged it,
    // on a window ending after the shift (the same fleet without it stays quiet: test/e2e/drift-alarm.test.ts).
    expect(alarms.length).toBeGreaterThan(0);
    expect(alarms[0]).toMatchObject({ assetModel: PUMP, threshold: 0.2 });
    expect(alarms[0]!.psi).toBeGreaterThan(0.2);
    expect(alarms[0]!.window.toHour).toBeGreaterThanOrEqual(driftHour);
    expect(alarms[0]!.rows).toBeGreaterThanOrEqual(500);
    const logged = readFileSync(join(dataDir, DRIFT_ALARMS_FILE), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(logged[0]).toMatchObject({ source: DRIFT_EVENT.source, 'detail-type': DRIFT_EVENT.detailType, detail: { assetModel: PUMP } });

    // Act 2: retrain from that history.
    const report = await retrain({ dataDir, registry, assetModels: [PUMP] });

    // Assert 2: a new version, measured with the champion on the same held-out slice; the champion stays.
    expect(report.versions).toHaveLength(1);
    const challenger = report.versions[0]!.version;
    expect(challenger.id).toBe(nextVersion);
    expect(challenger.source).toMatchObject({ kind: 'retrain', from: champion });
    expect(readAliases(registry).champions[PUMP]).toBe(champion);
    const [evaluation] = challenger.evaluations;
    expect(evaluation).toMatchObject({ name: 'history-held-out', kind: 'held-out' });
    expect(challenger.comparedWith).toMatchObject({ version: champion, evaluation: evaluation!.id });
    expect(Object.keys(challenger.comparedWith!.metrics).sort()).toEqual(Object.keys(evaluation!.metrics).sort());

    // Act 3: diff, the gate's verdict on the same evaluation.
    const diff = diffVersions(readVersion(registry, champion), readVersion(registry, challenger.id));
    const gated = diff.gate.checks.filter((c) => c.comparable);
    expect(gated.length).toBeGreaterThan(0);
    expect(gated.every((c) => c.evaluation === `history-held-out ${evaluation!.id}`)).toBe(true);
    expect(gated.map((c) => c.champion)).toEqual(gated.map((c) => challenger.comparedWith!.metrics[c.metric]));

    // Act 4: promote; an honest refusal is overridden only with a recorded reason.
    if (diff.gate.pass) {
      promote(registry, challenger.id, { bundleDir });
      expect(readAliases(registry).history.at(-1)).toMatchObject({ action: 'promote', to: challenger.id, forced: false });
    } else {
      expect(() => promote(registry, challenger.id, { bundleDir })).toThrow(PromotionRefusedError);
      expect(readAliases(registry).champions[PUMP]).toBe(champion);
      promote(registry, challenger.id, { bundleDir, force: true, reason: 'the fleet moved to a new regime; the champion was trained before it' });
      expect(readAliases(registry).history.at(-1)).toMatchObject({ action: 'promote', to: challenger.id, forced: true, reason: expect.stringMatching(/new regime/) });
    }
    expect(readAliases(registry).champions[PUMP]).toBe(challenger.id);
    // The rebuilt bundle serves the retrained files, and its drift reference is the history's training slice.
    const served = readBundle(bundleDir).manifest.models[PUMP]!;
    expect(served.predictors.map((p) => p.sha256).sort()).toEqual(challenger.files.map((f) => f.sha256).sort());
    expect(served.reference?.source).toMatch(/local history/);
    // Its watched features passed the own-window check on the history's assets and hours, as the trainers' do:
    // a gain-ranked reference would make the drift alarm fire on any small healthy fleet (docs/drift.md).
    expect(served.reference?.watch).toMatchObject({ windowHours: 24 });

    // Act 5: rollback.
    rollback(registry, PUMP, { bundleDir });
    expect(readAliases(registry).champions[PUMP]).toBe(champion);
  }, 240_000);
});
