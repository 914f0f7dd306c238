import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readBundle } from '../../../ml/bundle/read.ts';
import { adoptImported, registerBundle } from '../../../ml/registry/store.ts';
import { fixtureBundle, tempRegistry } from '../registry/fixtures.ts';

const ROOT = join(import.meta.dirname, '../../..');
const ENV = { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', PDM_USER: 'cli-test' };

function pdm(...args: string[]): string {
  return execFileSync(process.execPath, [join(ROOT, 'bin/pdm.mjs'), ...args], { cwd: ROOT, encoding: 'utf8', env: ENV });
}

function pdmFails(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/pdm.mjs'), ...args], { cwd: ROOT, encoding: 'utf8', env: ENV });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('pdm models', () => {
  it('list --json shows exactly one champion per asset model in the committed registry', () => {
    const { versions } = JSON.parse(pdm('models', 'list', '--json')) as { versions: { id: string; assetModel: string; champion: boolean }[] };

    const models = [...new Set(versions.map((v) => v.assetModel))].sort();
    expect(models).toEqual(['centrifugal-pump', 'industrial-machine', 'turbofan']);
    for (const m of models) expect(versions.filter((v) => v.assetModel === m && v.champion)).toHaveLength(1);
  });

  it('imports, refuses a worse challenger, promotes it with a recorded reason, and rolls back, rebuilding the bundle', () => {
    const registry = tempRegistry();
    const bundle = join(registry, '..', 'bundle');
    const reg = ['--registry', registry];
    pdm('models', 'import', '--bundle', fixtureBundle({ prAuc: 0.9 }), ...reg);
    // The second version in-process: one spawn fewer, and `import` is already the CLI's.
    registerBundle(registry, fixtureBundle({ prAuc: 0.7, seed: 8 }), { source: () => ({ kind: 'train', seed: 8 }), git: { commit: null, dirty: null } });

    const refused = pdmFails('models', 'promote', 'centrifugal-pump@2', '--bundle', bundle, ...reg);
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toMatch(/PromotionRefusedError: worse than centrifugal-pump@1: failure\.prAuc 0\.7 vs 0\.9/);
    expect(existsSync(bundle)).toBe(false);

    const forced = JSON.parse(pdm('models', 'promote', 'centrifugal-pump@2', '--force', '--reason', 'field data says so', '--bundle', bundle, '--json', ...reg));
    expect(forced.move).toMatchObject({ forced: true, reason: 'field data says so', by: 'cli-test' });
    expect(readBundle(bundle).manifest.models['centrifugal-pump']!.predictors[0]!.metrics.prAuc).toBe(0.7);
    const listed = JSON.parse(pdm('models', 'list', '--json', ...reg)).versions;
    expect(listed.find((v: { id: string }) => v.id === 'centrifugal-pump@2')).toMatchObject({ champion: true, forced: [{ reason: 'field data says so' }] });
    expect(JSON.parse(pdm('models', 'show', 'centrifugal-pump@2', '--json', ...reg)).forced[0].reason).toBe('field data says so');

    pdm('models', 'rollback', 'centrifugal-pump', '--bundle', bundle, ...reg);
    expect(readBundle(bundle).manifest.models['centrifugal-pump']!.predictors[0]!.metrics.prAuc).toBe(0.9);
    expect(pdm('models', 'diff', 'centrifugal-pump@1', 'centrifugal-pump@2', ...reg)).toMatch(/gate: REFUSE: worse than centrifugal-pump@1/);
  });

  it('names an unknown version and a rollback with nothing to go back to', () => {
    const registry = tempRegistry();
    adoptImported(registry, registerBundle(registry, fixtureBundle(), { source: () => ({ kind: 'train', seed: 1 }), git: { commit: null, dirty: null } }).versions, 'test');

    expect(pdmFails('models', 'show', 'turbofan@3', '--registry', registry).stderr).toMatch(/UnknownVersionError: no version turbofan@3/);
    expect(pdmFails('models', 'rollback', 'centrifugal-pump', '--no-bundle', '--registry', registry).stderr).toMatch(/NothingToRollBackError/);
  });

  it('refuses a held-out replay for a training run without the industrial machine, before training anything', () => {
    const registry = tempRegistry();

    const r = pdmFails('train', '--only', 'centrifugal-pump', '--held-out-replay', '2015-02-28', '--registry', registry);

    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--held-out-replay evaluates industrial-machine/);
    expect(pdmFails('train', '--only', 'industrial-machine', '--held-out-replay', 'soon', '--registry', registry).stderr).toMatch(/"soon" is not a date/);
  });

  it('offers the local and the deployed-stage commands side by side, and rollback --stage asks for what it needs', () => {
    const help = pdm('models', '--help');

    for (const c of ['list', 'promote', 'rollback', 'register', 'approve', 'versions', 'check']) expect(help).toMatch(new RegExp(`^  ${c} `, 'm'));
    const r = pdmFails('models', 'rollback', 'turbofan', '--stage', 'dev');
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/StageRollbackArgsError: rollback --stage needs --predictor/);
  });

  it('shadows a version, marks it in list, writes it into the bundle, and clears it', () => {
    const registry = tempRegistry();
    const bundle = join(registry, '..', 'bundle');
    const reg = ['--registry', registry];
    const git = { commit: null, dirty: null };
    const first = registerBundle(registry, fixtureBundle(), { source: () => ({ kind: 'train', seed: 7 }), git }).versions;
    adoptImported(registry, first, 'test champion');
    registerBundle(registry, fixtureBundle({ seed: 8 }), { source: () => ({ kind: 'train', seed: 8 }), git });

    const set = pdm('models', 'shadow', 'centrifugal-pump@2', '--reason', 'May data', '--bundle', bundle, ...reg);
    const list = pdm('models', 'list', ...reg);
    const shadowed = readBundle(bundle);
    const usage = pdmFails('models', 'shadow', 'centrifugal-pump@2', '--clear', 'centrifugal-pump', ...reg);
    const cleared = JSON.parse(pdm('models', 'shadow', '--clear', 'centrifugal-pump', '--bundle', bundle, '--json', ...reg)) as { move: { action: string; from: string; to: null } };

    expect(set).toMatch(/centrifugal-pump: challenger — → centrifugal-pump@2 \(champion centrifugal-pump@1 still decides\)/);
    expect(list).toMatch(/^\* centrifugal-pump@1/m);
    expect(list).toMatch(/^~ centrifugal-pump@2/m);
    expect(shadowed.challengers?.get('centrifugal-pump')?.version).toBe('centrifugal-pump@2');
    expect(usage.status).not.toBe(0);
    expect(usage.stderr).toMatch(/ShadowUsageError/);
    expect(cleared.move).toMatchObject({ action: 'unshadow', from: 'centrifugal-pump@2', to: null });
    expect(readBundle(bundle).challengers).toBeUndefined();
  });
});

