import { describe, expect, it } from 'vitest';
import { CMAPSS_VALUE_COLUMNS, parseCmapss } from '../../../ml/datasets/cmapss.ts';
import { REMIX_REGIMES, remixRegimes } from '../../../ml/datasets/cmapss-regimes.ts';

/** Two engines of a single-condition file: sensors at a fixed level plus a per-cycle drift. */
function source(): string {
  const lines: string[] = [];
  for (const unit of [1, 2]) {
    for (let cycle = 1; cycle <= 40; cycle++) {
      const sensors = REMIX_REGIMES[0]!.slice(3).map((level, i) => level * (1 + 0.001 * cycle * (i % 3 === 0 ? 1 : -1)));
      lines.push([unit, cycle, 0.0001, -0.0002, 100, ...sensors].map((x) => x.toFixed(4)).join(' '));
    }
  }
  return `${lines.join('\n')}\n`;
}

describe('six-regime remix of a C-MAPSS file', () => {
  const remixed = parseCmapss(remixRegimes(source(), 'src.txt', 3), 'remix.txt');
  const original = parseCmapss(source(), 'src.txt');
  const width = CMAPSS_VALUE_COLUMNS.length;

  it('keeps every engine and cycle, in order, and parses as a C-MAPSS file', () => {
    expect(remixed.rows).toBe(original.rows);
    expect(remixed.engines.map((e) => [e.unit, e.cycles])).toEqual(original.engines.map((e) => [e.unit, e.cycles]));
  });

  it('puts each cycle in one of the six conditions, and uses more than one', () => {
    const used = new Set<number>();
    for (const e of remixed.engines) {
      for (let k = 0; k < e.cycles.length; k++) {
        const alt = e.values[k * width]!;
        const r = REMIX_REGIMES.findIndex((g) => Math.abs(g[0]! - alt) < 0.01 && Math.abs(g[1]! - e.values[k * width + 1]!) < 0.001);
        expect(r).toBeGreaterThanOrEqual(0);
        expect(e.values[k * width + 2]).toBe(REMIX_REGIMES[r]![2]);
        used.add(r);
      }
    }
    expect(used.size).toBeGreaterThan(1);
  });

  it('keeps each cycle relative deviation from the mean, at its condition level (T30, within rounding)', () => {
    const t30 = CMAPSS_VALUE_COLUMNS.indexOf('T30');
    const values = original.engines.flatMap((e) => e.cycles.map((_, k) => e.values[k * width + t30]!));
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    remixed.engines.forEach((e, u) => {
      for (let k = 0; k < e.cycles.length; k++) {
        const level = REMIX_REGIMES.find((g) => Math.abs(g[0]! - e.values[k * width]!) < 0.01)![t30]!;
        const before = original.engines[u]!.values[k * width + t30]! / mean - 1;
        expect(e.values[k * width + t30]! / level - 1).toBeCloseTo(before, 4);
      }
    });
  });

  it('is the same for the same seed and differs for another', () => {
    expect(remixRegimes(source(), 'src.txt', 3)).toBe(remixRegimes(source(), 'src.txt', 3));
    expect(remixRegimes(source(), 'src.txt', 4)).not.toBe(remixRegimes(source(), 'src.txt', 3));
  });
});
