import { afterEach, describe, expect, it, vi } from 'vitest';

afterEach(() => {
  vi.unstubAllEnvs();
  vi.resetModules();
});

const common = {
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'x',
  AWS_SECRET_ACCESS_KEY: 'x',
  PDM_QUARANTINE_BUCKET: 'q',
  PDM_ASSET_TABLE: 'assets',
};

describe('handler modules', () => {
  it('wire the clean and features handlers from the environment contract', async () => {
    for (const [k, v] of Object.entries({ ...common, PDM_CLEAN_STREAM: 'clean', PDM_TWIN_TABLE: 'twins', PDM_EVENT_BUS: 'bus', PDM_MODEL_DIR: 'layers/model' })) {
      vi.stubEnv(k, v);
    }
    const clean = await import('../../lambdas/clean/handler.ts');
    const features = await import('../../lambdas/features/handler.ts');
    expect(typeof clean.handler).toBe('function');
    expect(typeof features.handler).toBe('function');
  });

  it('fails the cold start with a ConfigError naming the missing setting', async () => {
    for (const [k, v] of Object.entries(common)) vi.stubEnv(k, v);
    vi.stubEnv('PDM_CLEAN_STREAM', undefined);
    await expect(import('../../lambdas/clean/handler.ts')).rejects.toThrow(/PDM_CLEAN_STREAM/);
  });
});
