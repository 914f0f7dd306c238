import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { findChromium } from '../../support/chromium.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FleetAsset } from '../../../devices/fleet.ts';
import { MemoryDashboardSource } from '../../../local/dashboard/memory-source.ts';
import { type DashboardHandle, startDashboard } from '../../../local/dashboard/server.ts';
import { FEATURE_ENGINE_VERSION } from '../../../lambdas/core/features/index.ts';
import type { BundleManifest, ModelBundle } from '../../../lambdas/core/model/bundle.ts';

// No models: this test is about the events path from the simulator to the asset API, not about scoring.
const NO_MODELS: ModelBundle = {
  manifest: { schema: 'pdm.model-bundle.v1', createdAt: new Date(0).toISOString(), featureEngineVersion: FEATURE_ENGINE_VERSION, models: {} } as unknown as BundleManifest,
  models: new Map(),
};

const FLEET: FleetAsset[] = [
  { assetId: 'pump-001', siteId: 'site-a', modelId: 'centrifugal-pump', degradation: { component: 'bearing', startTick: 5, failTick: 150 } },
];

describe('dashboard asset API: device events', () => {
  let memory: MemoryDashboardSource;
  let server: DashboardHandle;

  beforeAll(async () => {
    memory = new MemoryDashboardSource({ fleet: FLEET, simulator: { seed: 4, events: true }, bundle: NO_MODELS });
    memory.step(140);
    server = await startDashboard({ source: memory, heartbeatMs: 1_000 });
  });

  afterAll(async () => {
    await server.stop();
  });

  it('returns the twin’s recent device events and their counts per window', async () => {
    // Act
    const response = await fetch(new URL('/api/assets/pump-001', server.url));
    const asset = (await response.json()) as {
      twin: { events: { code: string; severity: string; component?: string; seq: number }[] };
      features: Record<string, number | null>;
    };
    // Assert
    const twin = (await memory.twin('pump-001'))!;
    expect(response.status).toBe(200);
    expect(asset.twin.events.length).toBeGreaterThan(0);
    expect(asset.twin.events).toEqual(twin.events);
    expect(asset.twin.events.some((e) => e.component === 'bearing')).toBe(true);
    expect(asset.features.events_total_7d).toBeGreaterThan(0);
  });

  it(
    'lists the asset’s recent events, newest first, on the page',
    async () => {
      // Arrange: Debian's chromium (or PDM_CHROMIUM) when installed, else the build npm installed.
      const browserBinary = await findChromium();
      const userDir = mkdtempSync(join(tmpdir(), 'pdm-chromium-'));
      const browser = await chromium.launchPersistentContext(userDir, {
        executablePath: browserBinary.executablePath,
        env: { ...process.env, ...browserBinary.env },
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
      });
      try {
        const page = browser.pages()[0] ?? (await browser.newPage());
        const twin = (await memory.twin('pump-001'))!;
        // Act
        await page.goto(`${server.url}#asset=pump-001`);
        await page.waitForSelector('#detail[data-asset-id="pump-001"]', { timeout: 15_000 });
        const rows = page.locator('#device-events tbody tr.device-event');
        await expect.poll(() => rows.count(), { timeout: 10_000 }).toBe(twin.events!.length);
        // Assert
        const newest = twin.events!.at(-1)!;
        expect(await rows.first().getAttribute('data-code')).toBe(newest.code);
        expect(await rows.first().getAttribute('class')).toContain(`sev-${newest.severity}`);
      } finally {
        await browser.close();
        rmSync(userDir, { recursive: true, force: true });
      }
    },
    60_000,
  );
});
