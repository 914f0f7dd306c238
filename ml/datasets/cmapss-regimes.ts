/**
 * A six-regime remix of a single-condition C-MAPSS file, to measure what mixed operating conditions do
 * to the turbofan model while FD002/FD004 are not available here (../shared/data/cmapss/SOURCE.md).
 *
 * Every cycle is given one of six flight conditions at random (seeded), its settings set to that
 * condition's altitude, Mach and throttle, and each sensor moved to the condition's level with the
 * cycle's deviation from the file's mean scaled by the ratio of levels. Unit, cycle and the degradation
 * inside each engine stay as they were, so a model that handled regimes would score about as on the
 * source file. The levels are round figures of the order of the six C-MAPSS conditions (sea level to
 * 42 kft, idle-ish to full throttle); they are not read from FD002 and say nothing exact about it.
 *
 *   npx tsx ml/datasets/cmapss-regimes.ts <in.txt> <out.txt> [seed]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { Rng } from '../../lambdas/core/random.ts';
import { CMAPSS_VALUE_COLUMNS, parseCmapss } from './cmapss.ts';

/** Altitude (kft), Mach, throttle resolver angle (%), then the 21 sensor levels s1…s21. */
export const REMIX_REGIMES: readonly (readonly number[])[] = [
  [0, 0, 100, 518.67, 642.7, 1590, 1408, 14.62, 21.61, 553.5, 2388, 9062, 1.3, 47.5, 521.5, 2388, 8140, 8.44, 0.03, 393, 2388, 100, 38.9, 23.3],
  [10, 0.25, 100, 489.05, 604.6, 1499, 1310, 10.52, 15.49, 394.5, 2319, 8775, 1.26, 45.4, 371.8, 2388, 8116, 8.63, 0.03, 369, 2319, 100, 28.6, 17.15],
  [20, 0.7, 100, 491.19, 607.5, 1481, 1253, 9.35, 13.65, 334, 2323, 8713, 1.08, 44.3, 315, 2388, 8064, 9.2, 0.02, 365, 2324, 100, 24.5, 14.7],
  [25, 0.62, 60, 462.54, 536.8, 1262, 1050, 7.05, 9.03, 175.5, 1915, 7995, 0.94, 36.7, 164.6, 2028, 7875, 10.9, 0.02, 306, 1915, 84.93, 14.3, 8.6],
  [35, 0.84, 100, 449.44, 555.7, 1366, 1131, 5.48, 8.0, 194.6, 2223, 8340, 1.02, 41.9, 183.2, 2388, 8068, 9.35, 0.02, 334, 2223, 100, 14.8, 8.9],
  [42, 0.84, 100, 445.0, 549.6, 1351, 1118, 3.91, 5.71, 138.6, 2212, 8325, 1.02, 41.7, 130.5, 2388, 8084, 9.4, 0.02, 331, 2212, 100, 10.6, 6.4],
];

/** Decimals per column as NASA writes them (unit, cycle, 3 settings, 21 sensors). */
const DECIMALS = [0, 0, 4, 4, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 4, 2, 0, 0, 2, 2, 4];

/** The remixed file's text, in NASA's layout (space-separated, two trailing spaces). */
export function remixRegimes(text: string, source: string, seed = 7): string {
  const file = parseCmapss(text, source);
  const sensors = 21;
  const width = CMAPSS_VALUE_COLUMNS.length;
  const value = (e: (typeof file.engines)[number], k: number, i: number) => e.values[k * width + 3 + i]!;
  const mean = new Array<number>(sensors).fill(0);
  for (const e of file.engines) for (let k = 0; k < e.cycles.length; k++) for (let i = 0; i < sensors; i++) mean[i]! += value(e, k, i);
  for (let i = 0; i < sensors; i++) mean[i] = mean[i]! / file.rows;
  const rng = new Rng(seed);
  const out: string[] = [];
  for (const e of file.engines) {
    for (let k = 0; k < e.cycles.length; k++) {
      const r = REMIX_REGIMES[Math.floor(rng.next() * REMIX_REGIMES.length)]!;
      const cols = [e.unit, e.cycles[k]!, r[0]! + (rng.next() - 0.5) * 0.01, r[1]! + (rng.next() - 0.5) * 0.001, r[2]!];
      for (let i = 0; i < sensors; i++) {
        const level = r[3 + i]!;
        cols.push(mean[i] === 0 ? level : level + (value(e, k, i) - mean[i]!) * (level / mean[i]!));
      }
      out.push(`${cols.map((x, j) => x.toFixed(DECIMALS[j]!)).join(' ')}  `);
    }
  }
  return `${out.join('\n')}\n`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [input, output, seed] = process.argv.slice(2);
  if (!input || !output) {
    process.stderr.write('usage: npx tsx ml/datasets/cmapss-regimes.ts <in.txt> <out.txt> [seed]\n');
    process.exit(2);
  }
  writeFileSync(output, remixRegimes(readFileSync(input, 'utf8'), input, seed === undefined ? 7 : Number(seed)));
}
