import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { formatHandlerBench, type HandlerFigures, runHandlerBench } from '../../../ml/bench/handler-bench.ts';

function expectSaneFigures(f: HandlerFigures): void {
  for (const x of [f.readingsPerSec, f.floorReadingsPerSec, f.microsPerMessage, f.floorMicrosPerMessage, f.ratio]) {
    expect(Number.isFinite(x)).toBe(true);
    expect(x).toBeGreaterThan(0);
  }
}

describe('runHandlerBench', () => {
  afterEach(() => vi.restoreAllMocks());

  it('runs every simulated reading through both handlers without failures and into the twins', async () => {
    // Arrange
    const options = { records: 300, samplesPerMessage: 3, passes: 1, assets: 6, batchSize: 50 };

    // Act
    const r = await runHandlerBench(options);

    // Assert: the clean handler saw every record and passed every reading on.
    expect(r.records).toBe(300);
    expect(r.readings).toBeGreaterThan(0);
    expect(r.cleanFacts).toMatchObject({ invocations: 6, recordsIn: 300, failedItems: 0, samplesQuarantined: 0 });
    expect(r.cleanFacts.samplesClean).toBe(r.samples);
    expect(r.cleanReadings).toBe(r.readings);
    expect(r.cleanFacts.cleanRecordsOut).toBe(r.cleanRecords);
    // ...and the features handler folded every clean sample into a twin, with and without the model.
    for (const facts of [r.featuresFacts, r.featuresNoModelFacts]) {
      expect(facts).toMatchObject({ recordsIn: r.cleanRecords, failedItems: 0, failedAssets: 0, conflicts: 0, twins: 6 });
      expect(facts.invocations).toBe(Math.ceil(r.cleanRecords / 50));
      expect(facts.twinSamples).toBe(r.samples);
      expect(facts.rows).toBe(r.samples);
    }
    // Without a model no row is scored, so none can carry model (TreeSHAP) contributors.
    expect(r.featuresNoModelFacts.explainedRows).toBe(0);
    expect(r.featuresFacts.explainedRows).toBeLessThanOrEqual(r.featuresFacts.rows);
    expectSaneFigures(r.clean);
    expectSaneFigures(r.features);
    expectSaneFigures(r.featuresNoModel);
  });

  it('runs the shadow case over the same rows: challenger rows for the scored ones, the same twins and alerts', async () => {
    const r = await runHandlerBench({ records: 200, samplesPerMessage: 3, passes: 1, assets: 6, batchSize: 50, shadow: true });

    expect(r.featuresShadowFacts).toMatchObject({ failedItems: 0, failedAssets: 0, rows: r.featuresFacts.rows, alerts: r.featuresFacts.alerts, twinSamples: r.featuresFacts.twinSamples });
    expect(r.scoredModels.length).toBeGreaterThan(0);
    expect(r.featuresShadowFacts!.challengerRows).toBeGreaterThan(0);
    expect(r.featuresShadowFacts!.challengerRows).toBeLessThanOrEqual(r.featuresFacts.rows);
    expectSaneFigures(r.featuresShadow!);
    expect(r.shadowCost).toBeGreaterThan(0);
    expect(formatHandlerBench(r)).toMatch(/features \(model \+ shadow\)/);
  });

  it('serialises metrics and log lines without printing them', async () => {
    // Arrange
    const stdout = vi.spyOn(process.stdout, 'write');
    const log = vi.spyOn(console, 'log');

    // Act
    const r = await runHandlerBench({ records: 60, samplesPerMessage: 2, passes: 1, assets: 3 });

    // Assert
    expect(r.discarded.emfBytes).toBeGreaterThan(0);
    expect(r.discarded.logBytes).toBeGreaterThan(0);
    expect(stdout).not.toHaveBeenCalled();
    expect(log).not.toHaveBeenCalled();
  });

  it('keeps readings, clean readings and twin samples equal for any input size', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 200 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 100 }),
        async (records, samplesPerMessage, assets, batchSize) => {
          const r = await runHandlerBench({ records, samplesPerMessage, assets, batchSize, passes: 1 });
          expect(r.cleanReadings).toBe(r.readings);
          expect(r.cleanFacts.failedItems).toBe(0);
          expect(r.cleanFacts.invocations).toBe(Math.ceil(records / batchSize));
          expect(r.featuresFacts.failedItems + r.featuresNoModelFacts.failedItems).toBe(0);
          expect(r.featuresFacts.twinSamples).toBe(r.samples);
          expect(r.featuresNoModelFacts.twinSamples).toBe(r.samples);
          expect(r.featuresFacts.twins).toBeLessThanOrEqual(assets);
        },
      ),
      { numRuns: 5 },
    );
  });
});

describe('formatHandlerBench', () => {
  it('prints one line per handler with its ratio to the floor and says that I/O is excluded', async () => {
    // Arrange
    const r = await runHandlerBench({ records: 40, samplesPerMessage: 1, passes: 1, assets: 2 });

    // Act
    const text = formatHandlerBench(r);

    // Assert
    expect(text).toMatch(/no AWS I\/O/);
    for (const [label, f] of [
      ['clean handler', r.clean],
      ['features (in-Lambda model)', r.features],
      ['features (no model)', r.featuresNoModel],
    ] as const) {
      const line = text.split('\n').find((l) => l.startsWith(label));
      expect(line).toBeDefined();
      expect(line).toContain(`ratio ${f.ratio}`);
      expect(line).toContain(f.readingsPerSec.toLocaleString('en-US'));
    }
  });
});
