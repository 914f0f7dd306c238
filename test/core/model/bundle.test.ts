import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  BundleIntegrityError,
  BundleManifestError,
  BundlePredictorError,
  FeatureEngineMismatchError,
  loadBundle,
  UnknownFeatureError,
} from '../../../lambdas/core/model/bundle.ts';
import { BestIterationError, loadXgboostModel, predict } from '../../../lambdas/core/model/index.ts';
import { sha256Hex } from '../../../ml/bundle/hash.ts';
import { readBundle } from '../../../ml/bundle/read.ts';
import { writeBundle } from '../../../ml/bundle/write.ts';
import { ENGINE_NAMES, FIXTURE_FEATURES, fixtureBundleDir, fixturePredictors } from '../../ml/bundle/fixtures.ts';

const dirs: string[] = [];
const freshDir = () => {
  const d = fixtureBundleDir();
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const manifestOf = (dir: string) => JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
const reader = (dir: string) => (rel: string) => new Uint8Array(readFileSync(join(dir, rel)));

describe('loadBundle', () => {
  it('round-trips predictors through the bundle directory', () => {
    const dir = freshDir();
    const source = fixturePredictors();

    const bundle = readBundle(dir);

    const pump = bundle.models.get('centrifugal-pump')!;
    expect(pump.predictors.map((p) => p.entry.name)).toEqual(['failure', 'rul']);
    expect(pump.failure?.entry.horizon).toBe(86_400_000);
    expect(pump.rul?.entry.rulCap).toBe(1_209_600_000);
    expect(Array.from(pump.failure!.columns)).toEqual(FIXTURE_FEATURES.map((n) => ENGINE_NAMES.indexOf(n)));
    const direct = loadXgboostModel(source.predictors[0]!.modelJson);
    const row = [11, 9, Number.NaN, 3, 1, 0.5];
    expect(predict(pump.failure!.model, row)).toBe(predict(direct, row));
    expect(pump.failure!.entry.sha256).toBe(sha256Hex(readFileSync(join(dir, 'centrifugal-pump/failure.json'))));
  });

  it('writes the same files and manifest for the same predictors', () => {
    const a = freshDir();
    const b = freshDir();

    expect(readFileSync(join(a, 'manifest.json'), 'utf8')).toBe(readFileSync(join(b, 'manifest.json'), 'utf8'));
  });

  it('refuses a model file whose bytes changed with BundleIntegrityError', () => {
    const dir = freshDir();
    const file = join(dir, 'centrifugal-pump/rul.json');
    writeFileSync(file, readFileSync(file, 'utf8').replace('"split_conditions":[', '"split_conditions": ['));

    expect(() => readBundle(dir)).toThrow(BundleIntegrityError);
  });

  it('refuses a bundle built for another feature engine with FeatureEngineMismatchError', () => {
    const dir = freshDir();
    const manifest = { ...manifestOf(dir), featureEngineVersion: 'features-0' };

    expect(() => loadBundle(JSON.stringify(manifest), reader(dir))).toThrow(FeatureEngineMismatchError);
  });

  it('refuses a feature the engine does not compute with UnknownFeatureError', () => {
    const dir = freshDir();
    const manifest = manifestOf(dir);
    manifest.models['centrifugal-pump'].predictors[0].featureNames[2] = 'vibration_kurtosis_24h';

    const load = () => loadBundle(JSON.stringify(manifest), reader(dir));

    expect(load).toThrow(UnknownFeatureError);
    expect(load).toThrow(/vibration_kurtosis_24h/);
  });

  it('refuses a manifest whose columns disagree with the model file', () => {
    const dir = freshDir();
    const manifest = manifestOf(dir);
    const names = manifest.models['centrifugal-pump'].predictors[0].featureNames;
    [names[0], names[1]] = [names[1], names[0]];

    expect(() => loadBundle(JSON.stringify(manifest), reader(dir))).toThrow(BundlePredictorError);
  });

  it('refuses a component-failure predictor naming an inherited property as its component', () => {
    const dir = freshDir();
    for (const component of ['constructor', '__proto__', 'toString']) {
      const manifest = manifestOf(dir);
      Object.assign(manifest.models['centrifugal-pump'].predictors[0], { kind: 'component-failure', component });

      expect(() => loadBundle(JSON.stringify(manifest), reader(dir))).toThrow(/component-failure needs a component/);
    }
  });

  it('refuses malformed manifests with BundleManifestError naming the field', () => {
    const dir = freshDir();
    const bad = manifestOf(dir);
    bad.models['centrifugal-pump'].predictors[1].kind = 'lifetime';

    expect(() => loadBundle('{', reader(dir))).toThrow(BundleManifestError);
    expect(() => loadBundle(JSON.stringify(bad), reader(dir))).toThrow(/predictors\.1\.kind/);
    expect(() => loadBundle(JSON.stringify({ ...bad, schema: 'pdm.model-bundle.v2' }), reader(dir))).toThrow(
      BundleManifestError,
    );
  });

  it('applies the artifact gate: a model with best_ntree_limit below its trees is refused', () => {
    const dir = freshDir();
    const file = join(dir, 'centrifugal-pump/rul.json');
    writeFileSync(file, readFileSync(file, 'utf8').replace('"attributes":{}', '"attributes":{"best_ntree_limit":"3"}'));

    expect(() => loadBundle(readFileSync(join(dir, 'manifest.json'), 'utf8'), reader(dir))).toThrow(
      BestIterationError,
    );
  });

  it('refuses to write a predictor that fails the gate', () => {
    const set = fixturePredictors();
    const broken = { ...set, predictors: [{ ...set.predictors[0]!, modelJson: 'binf\u0000' }] };
    const dir = freshDir();

    expect(() => writeBundle(dir, [broken])).toThrow(/binf|legacy/i);
  });
});

describe('bundle drift reference', () => {
  it('is written from the trainer’s matrix and loaded with the asset model', () => {
    const dir = freshDir();

    const pump = readBundle(dir).models.get('centrifugal-pump')!;

    expect(pump.reference?.rows).toBe(600);
    expect(Object.keys(pump.reference!.features).sort()).toEqual([...FIXTURE_FEATURES].sort());
    expect(pump.reference!.topFeatures[0]!.name).toBe('vibration_mean_24h');
  });

  it('refuses a reference that bins a feature the engine does not compute', () => {
    const dir = freshDir();
    const m = manifestOf(dir);
    m.models['centrifugal-pump'].reference.features.not_a_feature = { edges: [], shares: [1, 0] };
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(m));

    expect(() => loadBundle(readFileSync(join(dir, 'manifest.json'), 'utf8'), reader(dir))).toThrow(UnknownFeatureError);
  });

  it('refuses shares that do not match the edges', () => {
    const dir = freshDir();
    const m = manifestOf(dir);
    m.models['centrifugal-pump'].reference.features.temperature_last.shares.push(0);
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(m));

    expect(() => loadBundle(readFileSync(join(dir, 'manifest.json'), 'utf8'), reader(dir))).toThrow(BundleManifestError);
  });
});
