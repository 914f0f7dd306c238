/**
 * Regenerates the shipped anomaly baselines (`lambdas/core/anomaly/baselines/*.json`), deterministically:
 * `npx tsx ml/anomaly/fit-defaults.ts [--check]` (`--check` exits 1 if a file's content would change).
 * Files are compared as parsed JSON: the repository's formatter, not JSON.stringify, decides the layout.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import type { AnomalyBaseline } from '../../lambdas/core/anomaly/types.ts';
import { CENTRIFUGAL_PUMP, INDUSTRIAL_MACHINE, TURBOFAN } from '../../lambdas/core/catalog/index.ts';
import { loadCmapss } from './data.ts';
import { azureHealthy, CHOSEN, cmapssHealthy, loadAzure, simulatedHealthy } from './evaluate.ts';
import { fitBaseline } from './fit.ts';

const OUT_DIR = fileURLToPath(new URL('../../lambdas/core/anomaly/baselines/', import.meta.url));

export function fitDefaults(): AnomalyBaseline[] {
  const pump = simulatedHealthy();
  const azure = azureHealthy(loadAzure());
  const cmapss = cmapssHealthy(loadCmapss());
  const fitOne = (
    model: typeof TURBOFAN,
    data: { rows: Record<string, number>[]; segments: number[] },
    source: string,
  ): AnomalyBaseline => {
    const c = CHOSEN[model.id as keyof typeof CHOSEN];
    return fitBaseline(c.method, model, data.rows, {
      source,
      ewmaAlpha: c.ewmaAlpha,
      segments: data.segments,
      ...(c.shrinkage === undefined ? {} : { shrinkage: c.shrinkage }),
    });
  };
  return [
    fitOne(
      TURBOFAN,
      cmapss,
      'NASA C-MAPSS train_FD001.txt (sha256 963b5e22…), cycles 1–30 of each of the 100 engines; EWMA restarts per engine',
    ),
    fitOne(
      INDUSTRIAL_MACHINE,
      azure,
      'Azure PdM telemetry machines 1–20, 2015-01-01 06:00 → 2015-04-01 05:00 (sha256 6d5aeb13…): hours with no failure ' +
        'of the same machine within the next 7 days (PdM_failures.csv); EWMA restarts per machine and at every excluded gap',
    ),
    fitOne(
      CENTRIFUGAL_PUMP,
      pump,
      'simulated: ml/anomaly/simulate.ts simulatePump seeds 1–10 × 1,000 healthy samples (devices/physics.ts ' +
        'pumpReadings, no wear, under devices/fleet.ts’s daily load, 10-min samples); synthetic, replace with a ' +
        'fit on the fleet’s own healthy data',
    ),
  ];
}

const isMain = process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isMain) {
  const check = process.argv.includes('--check');

  let stale = false;
  for (const b of fitDefaults()) {
    const path = `${OUT_DIR}${b.modelId}.json`;
    let old: unknown;
    try {
      old = JSON.parse(readFileSync(path, 'utf8'));
    } catch {
      old = undefined;
    }
    if (isDeepStrictEqual(old, JSON.parse(JSON.stringify(b)))) continue;
    stale = true;
    if (!check) {
      writeFileSync(path, `${JSON.stringify(b, null, 2)}\n`);
    }
    console.log(`${check ? 'stale' : 'wrote'} ${path} (${b.method}, ${b.fittedOn.rows} rows)`);
  }
  if (check && stale) process.exit(1);
}
