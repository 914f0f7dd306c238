import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sha256Hex } from '../../../ml/bundle/hash.ts';
import { readBundle } from '../../../ml/bundle/read.ts';
import { challengersOf } from '../../../ml/registry/record.ts';
import {
  clearShadow,
  promote,
  readAliases,
  registerBundle,
  RegistryIntegrityError,
  rollback,
  shadow,
  ShadowError,
  UnknownAssetModelError,
  verifyRegistry,
} from '../../../ml/registry/store.ts';
import { BundleChallengerError, BundleIntegrityError, loadBundle } from '../../../lambdas/core/model/bundle.ts';
import { fixtureBundle, type FixtureMetrics, tempRegistry } from './fixtures.ts';

const GIT = { commit: null, dirty: null };
const PUMP = 'centrifugal-pump';

function register(dir: string, m: FixtureMetrics = {}): string {
  const { versions } = registerBundle(dir, fixtureBundle(m), { source: () => ({ kind: 'train', seed: 1 }), git: GIT });
  return versions[0]!.id;
}

/** A registry with a champion (seed 7) and a second version with other model files (seed 8). */
function withTwoVersions(): { dir: string; bundle: string; champion: string; other: string } {
  const dir = tempRegistry();
  const champion = register(dir);
  const other = register(dir, { seed: 8 });
  const bundle = join(dir, '..', 'bundle');
  promote(dir, champion, { bundleDir: bundle });
  return { dir, bundle, champion, other };
}

describe('registry shadow challengers', () => {
  it('sets the challenger alias, records the move, and materializes its files under challengers/', () => {
    const { dir, bundle, champion, other } = withTwoVersions();

    const r = shadow(dir, other, { bundleDir: bundle, reason: 'retrained on May data', by: 'ana' });

    expect(r.move).toMatchObject({ action: 'shadow', from: null, to: other, by: 'ana', reason: 'retrained on May data' });
    const aliases = readAliases(dir);
    expect(aliases.champions[PUMP]).toBe(champion);
    expect(aliases.challengers).toEqual({ [PUMP]: other });
    expect(JSON.parse(readFileSync(join(dir, 'aliases.json'), 'utf8')).challengers).toEqual({ [PUMP]: other });
    const loaded = readBundle(bundle);
    expect(loaded.manifest.challengers?.[PUMP]?.version).toBe(other);
    expect(loaded.manifest.challengers?.[PUMP]?.predictors.map((p) => p.file)).toEqual([
      `challengers/${PUMP}/failure.json`,
      `challengers/${PUMP}/rul.json`,
    ]);
    expect(loaded.challengers?.get(PUMP)?.version).toBe(other);
    expect(loaded.challengers?.get(PUMP)?.predictors.map((p) => p.entry.name)).toEqual(['failure', 'rul']);
    // The champion's entry is untouched: the challenger is an extra, not a replacement.
    expect(loaded.models.get(PUMP)?.predictors[0]?.entry.sha256).not.toBe(loaded.challengers?.get(PUMP)?.predictors[0]?.entry.sha256);
    expect(verifyRegistry(dir).versions).toBe(2);
  });

  it('clears the challenger and rebuilds the bundle without the section', () => {
    const { dir, bundle, other } = withTwoVersions();
    shadow(dir, other, { bundleDir: bundle });

    const r = clearShadow(dir, PUMP, { bundleDir: bundle });

    expect(r.move).toMatchObject({ action: 'unshadow', from: other, to: null });
    expect(readAliases(dir).challengers).toEqual({});
    expect(JSON.parse(readFileSync(join(dir, 'aliases.json'), 'utf8'))).not.toHaveProperty('challengers');
    const loaded = readBundle(bundle);
    expect(loaded.manifest).not.toHaveProperty('challengers');
    expect(loaded.challengers).toBeUndefined();
  });

  it('refuses to shadow the champion, an asset model without a champion, and to clear a missing challenger', () => {
    const { dir, champion } = withTwoVersions();
    const lone = tempRegistry();
    const v = register(lone);

    expect(() => shadow(dir, champion, { bundleDir: null })).toThrow(ShadowError);
    expect(() => shadow(lone, v, { bundleDir: null })).toThrow(/no champion/);
    expect(() => clearShadow(dir, PUMP, { bundleDir: null })).toThrow(UnknownAssetModelError);
  });

  it('drops the challenger when it is promoted, and keeps the champion stack free of shadow moves', () => {
    const { dir, bundle, champion, other } = withTwoVersions();
    shadow(dir, other, { bundleDir: bundle });

    promote(dir, other, { bundleDir: bundle, force: true, reason: 'shadow results were good' });

    expect(readAliases(dir).challengers).toEqual({});
    expect(readBundle(bundle).challengers).toBeUndefined();
    // The rollback goes to the previous champion, not to a shadow move's version.
    expect(rollback(dir, PUMP, { bundleDir: bundle }).move).toMatchObject({ from: other, to: champion });
  });

  it('refuses an alias file whose challengers contradict its history', () => {
    const { dir, other } = withTwoVersions();
    shadow(dir, other, { bundleDir: null });
    const path = join(dir, 'aliases.json');
    const file = JSON.parse(readFileSync(path, 'utf8'));
    writeFileSync(path, JSON.stringify({ ...file, challengers: {} }));

    expect(() => readAliases(dir)).toThrow(RegistryIntegrityError);
  });

  it('replays shadow, unshadow and promotion onto the challenger', () => {
    const at = '2026-01-01T00:00:00.000Z';
    const base = { at, by: 't', assetModel: PUMP, forced: false };

    expect(
      challengersOf([
        { ...base, action: 'shadow', from: null, to: `${PUMP}@2` },
        { ...base, action: 'shadow', from: `${PUMP}@2`, to: `${PUMP}@3` },
      ]),
    ).toEqual({ [PUMP]: `${PUMP}@3` });
    expect(challengersOf([{ ...base, action: 'shadow', from: null, to: `${PUMP}@2` }, { ...base, action: 'unshadow', from: `${PUMP}@2`, to: null }])).toEqual({});
    expect(challengersOf([{ ...base, action: 'shadow', from: null, to: `${PUMP}@2` }, { ...base, action: 'promote', from: `${PUMP}@1`, to: `${PUMP}@2` }])).toEqual({});
  });
});

describe('model bundle with challengers', () => {
  function shadowedBundle(): string {
    const { dir, bundle, other } = withTwoVersions();
    shadow(dir, other, { bundleDir: bundle });
    return bundle;
  }
  const read = (dir: string) => (rel: string) => new Uint8Array(readFileSync(join(dir, rel)));

  it('checks the sha256 of the challenger files', () => {
    const bundle = shadowedBundle();
    const manifest = JSON.parse(readFileSync(join(bundle, 'manifest.json'), 'utf8'));
    manifest.challengers[PUMP].predictors[0].sha256 = '0'.repeat(64);

    expect(() => readBundleText(bundle, manifest)).toThrow(BundleIntegrityError);
  });

  it('refuses a challenger without a champion, of another asset model, or sharing a champion file', () => {
    const bundle = shadowedBundle();
    const manifest = JSON.parse(readFileSync(join(bundle, 'manifest.json'), 'utf8'));
    const orphan = { ...manifest, challengers: { turbofan: manifest.challengers[PUMP] } };
    const wrongVersion = { ...manifest, challengers: { [PUMP]: { ...manifest.challengers[PUMP], version: 'turbofan@2' } } };
    const shared = structuredClone(manifest);
    shared.challengers[PUMP].predictors[0].file = manifest.models[PUMP].predictors[0].file;
    shared.challengers[PUMP].predictors[0].sha256 = manifest.models[PUMP].predictors[0].sha256;

    expect(() => readBundleText(bundle, orphan)).toThrow(BundleChallengerError);
    expect(() => readBundleText(bundle, wrongVersion)).toThrow(/not a version of/);
    expect(() => readBundleText(bundle, shared)).toThrow(/also a champion's file/);
  });

  it('loads a bundle without challengers as before', () => {
    const bundle = fixtureBundle();

    const loaded = loadBundle(readFileSync(join(bundle, 'manifest.json'), 'utf8'), read(bundle));

    expect(loaded.challengers).toBeUndefined();
    expect([...loaded.models.keys()]).toEqual([PUMP]);
  });

  function readBundleText(dir: string, manifest: unknown) {
    return loadBundle(JSON.stringify(manifest), read(dir), { sha256: (b) => sha256Hex(b) });
  }
});
