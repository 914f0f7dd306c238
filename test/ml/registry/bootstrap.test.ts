import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sha256Hex } from '../../../ml/bundle/hash.ts';
import { DEFAULT_BUNDLE_DIR, readBundle } from '../../../ml/bundle/read.ts';
import { DEFAULT_REGISTRY_DIR, materialize, readAliases, verifyRegistry } from '../../../ml/registry/store.ts';

describe('the committed registry (models/) and the shipped bundle (layers/model)', () => {
  it('verifies: every record parses, every blob matches its sha256, the aliases replay', () => {
    const { versions } = verifyRegistry(DEFAULT_REGISTRY_DIR);

    expect(versions).toBeGreaterThanOrEqual(Object.keys(readAliases(DEFAULT_REGISTRY_DIR).champions).length);
  });

  it('layers/model is exactly what materialising the champions gives: edit the registry, not the bundle', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'pdm-materialized-')), 'model');

    const built = materialize(DEFAULT_REGISTRY_DIR, out);

    const shipped = readBundle(DEFAULT_BUNDLE_DIR).manifest;
    expect(Object.keys(readAliases(DEFAULT_REGISTRY_DIR).champions).sort()).toEqual(Object.keys(shipped.models).sort());
    expect(built).toEqual(shipped);
    expect(readFileSync(join(out, 'manifest.json'), 'utf8')).toBe(readFileSync(join(DEFAULT_BUNDLE_DIR, 'manifest.json'), 'utf8'));
    for (const { predictors } of Object.values(shipped.models)) {
      for (const p of predictors) {
        expect(sha256Hex(readFileSync(join(out, p.file)))).toBe(sha256Hex(readFileSync(join(DEFAULT_BUNDLE_DIR, p.file))));
      }
    }
  });
});
