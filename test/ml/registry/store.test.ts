import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readBundle } from '../../../ml/bundle/read.ts';
import { diffVersions } from '../../../ml/cli/models.ts';
import {
  adoptImported,
  listVersions,
  materialize,
  MissingReasonError,
  NothingToRollBackError,
  PromotionRefusedError,
  promote,
  readAliases,
  readVersion,
  registerBundle,
  RegistryIntegrityError,
  RegistryLockError,
  registerVersion,
  rollback,
  UnknownAssetModelError,
  UnknownVersionError,
  verifyRegistry,
  WrongAssetModelError,
  withRegistryLock,
} from '../../../ml/registry/store.ts';
import { fixtureBundle, type FixtureMetrics, tempRegistry } from './fixtures.ts';

const GIT = { commit: null, dirty: null };
const ROOT = join(import.meta.dirname, '../../..');

function register(dir: string, m: FixtureMetrics = {}): string {
  const { versions } = registerBundle(dir, fixtureBundle(m), { source: () => ({ kind: 'train', seed: 1 }), git: GIT });
  return versions[0]!.id;
}

function runWorker(registry: string, bundle: string, times: number): Promise<string[]> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'register-worker.ts'), registry, bundle, String(times)], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolvePromise(out.split('\n').filter(Boolean)) : reject(new Error(`worker exited ${code}`))));
  });
}

describe('model registry store', () => {
  it('registers versions with increasing ids, stores identical files once, and lists them', () => {
    const dir = tempRegistry();

    const a = register(dir);
    const b = register(dir);
    const c = register(dir, { seed: 8 });

    expect([a, b, c]).toEqual(['centrifugal-pump@1', 'centrifugal-pump@2', 'centrifugal-pump@3']);
    expect(listVersions(dir).map((v) => v.id)).toEqual([a, b, c]);
    expect(readdirSync(join(dir, 'blobs'))).toHaveLength(4);
    const record = readVersion(dir, a);
    expect(record.entry.predictors.map((p) => p.name)).toEqual(['failure', 'rul']);
    expect(record.evaluations.find((e) => 'failure.prAuc' in e.metrics)).toMatchObject({ name: 'pump-test-pumps', kind: 'held-out' });
    expect(verifyRegistry(dir)).toEqual({ versions: 3, blobs: 4 });
  });

  it('keeps every manifest field of the entry, including ones the registry does not know', () => {
    const dir = tempRegistry();
    const bundle = fixtureBundle();
    const manifest = JSON.parse(readFileSync(join(bundle, 'manifest.json'), 'utf8'));
    const entry = { ...manifest.models['centrifugal-pump'], reference: { vibration_mean_24h: { edges: [1, 2] } } };

    const v = registerVersion(dir, {
      assetModel: 'centrifugal-pump',
      entry,
      readFile: (f) => new Uint8Array(readFileSync(join(bundle, f))),
      featureEngineVersion: manifest.featureEngineVersion,
      created: manifest.createdAt,
      source: { kind: 'train', seed: 1 },
      git: GIT,
    });

    expect(readVersion(dir, v.id).entry).toEqual(entry);
  });

  it('gives two registrations racing in two processes distinct ids', async () => {
    const dir = tempRegistry();
    const bundle = fixtureBundle();
    register(dir);

    const [x, y] = await Promise.all([runWorker(dir, bundle, 10), runWorker(dir, bundle, 10)]);

    const ids = [...x!, ...y!];
    expect(new Set(ids).size).toBe(20);
    expect(listVersions(dir).map((v) => v.id)).toHaveLength(21);
    expect(readdirSync(join(dir, 'centrifugal-pump')).every((f) => /^centrifugal-pump@\d+\.json$/.test(f))).toBe(true);
  });

  it('takes the next free number, never overwriting, when another writer took the one it counted', () => {
    const dir = tempRegistry();
    register(dir, { prAuc: 0.5 });
    register(dir, { prAuc: 0.6 });
    const bundle = fixtureBundle({ prAuc: 0.7 });
    const manifest = JSON.parse(readFileSync(join(bundle, 'manifest.json'), 'utf8'));

    const late = registerVersion(
      dir,
      {
        assetModel: 'centrifugal-pump',
        entry: manifest.models['centrifugal-pump'],
        readFile: (f) => new Uint8Array(readFileSync(join(bundle, f))),
        featureEngineVersion: manifest.featureEngineVersion,
        created: manifest.createdAt,
        source: { kind: 'train', seed: 1 },
        git: GIT,
      },
      { tryFirst: 1 },
    );

    expect(late.id).toBe('centrifugal-pump@3');
    expect(readVersion(dir, 'centrifugal-pump@1').evaluations[0]!.metrics['failure.prAuc']).toBe(0.5);
  });

  it('leaves no record when a write fails, and no record when a file does not match its sha256', () => {
    const dir = tempRegistry();
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'blobs'), 'a file where the blob folder belongs');

    expect(() => register(dir)).toThrow();
    expect(existsSync(join(dir, 'centrifugal-pump'))).toBe(false);

    const bundle = fixtureBundle();
    const manifest = JSON.parse(readFileSync(join(bundle, 'manifest.json'), 'utf8'));
    const other = tempRegistry();
    expect(() =>
      registerVersion(other, {
        assetModel: 'centrifugal-pump',
        entry: manifest.models['centrifugal-pump'],
        readFile: () => new TextEncoder().encode('{"not": "the model"}'),
        featureEngineVersion: manifest.featureEngineVersion,
        created: manifest.createdAt,
        source: { kind: 'train', seed: 1 },
        git: GIT,
      }),
    ).toThrow(RegistryIntegrityError);
    expect(existsSync(other)).toBe(false);
  });

  it('ignores a temporary file left by a crashed writer', () => {
    const dir = tempRegistry();
    register(dir);
    writeFileSync(join(dir, 'centrifugal-pump', 'centrifugal-pump@2.json.tmp-999-abcd'), '{"half":');

    expect(register(dir)).toBe('centrifugal-pump@2');
    expect(listVersions(dir)).toHaveLength(2);
  });

  it('detects a tampered blob and refuses to build a bundle from it', () => {
    const dir = tempRegistry();
    const id = register(dir);
    adoptImported(dir, [readVersion(dir, id)], 'test');
    const blob = readVersion(dir, id).files[0]!.blob;
    writeFileSync(join(dir, blob), readFileSync(join(dir, blob), 'utf8').replace('"', ' "'));

    expect(() => verifyRegistry(dir)).toThrow(RegistryIntegrityError);
    expect(() => materialize(dir, join(dir, '..', 'bundle'))).toThrow(/sha256 is .*, the name says/);
    expect(existsSync(join(dir, '..', 'bundle'))).toBe(false);
  });

  it('promotes through the gate, rebuilds the bundle from the champions, and rolls back along the history', () => {
    const dir = tempRegistry();
    const bundleDir = join(dir, '..', 'bundle');
    const v1 = register(dir, { prAuc: 0.9, rmseHours: 40 });
    const v2 = register(dir, { prAuc: 0.92, rmseHours: 39, seed: 8 });
    const v3 = register(dir, { prAuc: 0.95, rmseHours: 38 });

    promote(dir, v1, { bundleDir, by: 'tester' });
    promote(dir, v2, { bundleDir, by: 'tester' });
    const third = promote(dir, v3, { bundleDir, by: 'tester' });

    expect(third.gate?.pass).toBe(true);
    expect(readAliases(dir).champions).toEqual({ 'centrifugal-pump': v3 });
    expect(readBundle(bundleDir).manifest.models['centrifugal-pump']).toEqual(readVersion(dir, v3).entry);

    expect(rollback(dir, 'centrifugal-pump', { bundleDir, reason: 'bad in the field' }).move).toMatchObject({ from: v3, to: v2 });
    expect(readBundle(bundleDir).manifest.models['centrifugal-pump']).toEqual(readVersion(dir, v2).entry);
    expect(rollback(dir, 'centrifugal-pump', { bundleDir }).move.to).toBe(v1);
    expect(() => rollback(dir, 'centrifugal-pump', { bundleDir })).toThrow(NothingToRollBackError);
    expect(() => rollback(dir, 'turbofan', { bundleDir })).toThrow(UnknownAssetModelError);
  });

  it('refuses a worse challenger unless forced with a reason, and records the reason', () => {
    const dir = tempRegistry();
    const champion = register(dir, { prAuc: 0.9 });
    const worse = register(dir, { prAuc: 0.8 });
    promote(dir, champion, { bundleDir: null });

    expect(() => promote(dir, worse, { bundleDir: null })).toThrow(PromotionRefusedError);
    expect(() => promote(dir, worse, { bundleDir: null, force: true })).toThrow(MissingReasonError);
    expect(readAliases(dir).champions['centrifugal-pump']).toBe(champion);

    const forced = promote(dir, worse, { bundleDir: null, force: true, reason: 'new sensor layout' });

    expect(forced.move).toMatchObject({ forced: true, reason: 'new sensor layout', from: champion, to: worse });
    expect(readAliases(dir).history.at(-1)).toMatchObject({ forced: true, reason: 'new sensor layout' });
  });

  it('refuses a challenger trained on other data as not comparable', () => {
    const dir = tempRegistry();
    const champion = register(dir);
    const other = register(dir, { dataHash: 'other-data' });
    promote(dir, champion, { bundleDir: null });

    expect(() => promote(dir, other, { bundleDir: null })).toThrow(/not comparable/);
  });

  it('names unknown versions and diffs only versions of one asset model', () => {
    const dir = tempRegistry();
    const a = register(dir, { prAuc: 0.9 });
    const b = register(dir, { prAuc: 0.95, seed: 8 });

    expect(() => readVersion(dir, 'centrifugal-pump@9')).toThrow(UnknownVersionError);
    const d = diffVersions(readVersion(dir, a), readVersion(dir, b));
    expect(d.metrics.find((m) => m.metric === 'failure.prAuc')).toMatchObject({ a: 0.9, b: 0.95, sameEvaluation: true });
    expect(d.files.map((f) => f.change)).toEqual(['changed', 'changed']);
    expect(d.gate.pass).toBe(true);
    expect(() => diffVersions(readVersion(dir, a), { ...readVersion(dir, b), assetModel: 'turbofan' })).toThrow(WrongAssetModelError);
  });

  it('takes over a lock left by a dead process and waits out a live holder', () => {
    const dir = tempRegistry();
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, '.lock'), JSON.stringify({ pid: 2 ** 22 + 12345, host: hostname() }));
    expect(withRegistryLock(dir, () => 'ran')).toBe('ran');

    writeFileSync(join(dir, '.lock'), JSON.stringify({ pid: process.pid, host: hostname() }));
    expect(() => withRegistryLock(dir, () => 'ran', 50)).toThrow(RegistryLockError);
  });
});
