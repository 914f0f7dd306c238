import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ModelBundleMissingError, readBundleDir } from '../../lambdas/adapters/model.ts';

describe('readBundleDir', () => {
  it('fails loudly for a missing bundle when the bundle is required (the Lambda handler)', () => {
    const empty = mkdtempSync(join(tmpdir(), 'pdm-nomodel-'));

    expect(() => readBundleDir(empty, { required: true })).toThrow(ModelBundleMissingError);
    expect(() => readBundleDir(empty, { required: true })).toThrow(/manifest\.json/);
  });

  it('reads a missing bundle as empty when it is optional (local mode without models)', () => {
    const empty = mkdtempSync(join(tmpdir(), 'pdm-nomodel-'));

    expect(readBundleDir(empty).models.size).toBe(0);
  });

  it('loads the shipped bundle either way', () => {
    expect(readBundleDir('layers/model', { required: true }).models.size).toBeGreaterThan(0);
  });
});
