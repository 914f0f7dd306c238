import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CMAPSS_COLUMN_COUNT,
  CMAPSS_VALUE_COLUMNS,
  CmapssFormatError,
  engineEvents,
  parseCmapss,
  parseRul,
  readCmapss,
} from '../../../ml/datasets/cmapss.ts';

/** A line in NASA's layout: unit, cycle, then `values` (24 numbers), two trailing spaces. */
function line(unit: number, cycle: number, values: readonly number[]): string {
  return `${unit} ${cycle} ${values.join(' ')}  `;
}

const VALUES = Array.from({ length: 24 }, (_, k) => k + 0.5);

function errorOf(fn: () => unknown): CmapssFormatError {
  try {
    fn();
  } catch (e) {
    if (e instanceof CmapssFormatError) return e;
    throw e;
  }
  throw new Error('expected a CmapssFormatError');
}

describe('parseCmapss', () => {
  it('groups lines by unit and keeps values in column order, ignoring trailing spaces, CRLF and blank lines', () => {
    const text = [line(1, 1, VALUES), line(1, 2, VALUES.map((v) => v * 2)), '', line(2, 1, VALUES), ''].join('\r\n');

    const file = parseCmapss(text);

    expect(file.rows).toBe(3);
    expect(file.engines.map((e) => e.unit)).toEqual([1, 2]);
    expect(file.engines[0]!.cycles).toEqual([1, 2]);
    expect(Array.from(file.engines[0]!.values.slice(24, 27))).toEqual([1, 3, 5]);
    expect(file.engines[1]!.values.length).toBe(24);
  });

  it('names the line when the column count is wrong', () => {
    const text = `${line(1, 1, VALUES)}\n${line(1, 2, VALUES.slice(0, 23))}\n`;

    const e = errorOf(() => parseCmapss(text, 'train_X.txt'));

    expect(e.line).toBe(2);
    expect(e.message).toMatch(/^train_X\.txt:2: expected 26 columns.*found 25/);
  });

  it('names the line and character column of a value that is not a number', () => {
    const bad = [...VALUES.map(String)];
    bad[3] = '12,5';
    const text = `${line(1, 1, VALUES)}\n1 2 ${bad.join(' ')}\n`;

    const e = errorOf(() => parseCmapss(text, 'f'));

    expect(e.line).toBe(2);
    // "1 2 0.5 1.5 2.5 " is 16 characters, so the 6th token starts at column 17.
    expect(e.column).toBe(17);
    expect(e.message).toContain("column 6 is not a finite number: '12,5'");
  });

  it('rejects a fractional unit, a zero cycle, a repeated cycle and a unit split across the file', () => {
    expect(errorOf(() => parseCmapss(line(1.5, 1, VALUES))).message).toMatch(/unit must be a positive integer/);
    expect(errorOf(() => parseCmapss(line(1, 0, VALUES))).message).toMatch(/cycle must be a positive integer/);
    const repeated = errorOf(() => parseCmapss(`${line(1, 2, VALUES)}\n${line(1, 2, VALUES)}`));
    expect(repeated.line).toBe(2);
    expect(repeated.message).toMatch(/cycles must increase/);
    const split = errorOf(() => parseCmapss([line(1, 1, VALUES), line(2, 1, VALUES), line(1, 2, VALUES)].join('\n')));
    expect(split.line).toBe(3);
    expect(split.message).toMatch(/unit 1 appears again/);
  });

  it('rejects a file without data lines', () => {
    expect(() => parseCmapss('\n  \n')).toThrow(CmapssFormatError);
  });

  it('reads back any well-formed file it is given (round trip)', () => {
    const engine = fc.record({
      cycles: fc.uniqueArray(fc.integer({ min: 1, max: 400 }), { minLength: 1, maxLength: 5 }),
      values: fc.array(fc.double({ min: -1e4, max: 1e4, noNaN: true }), { minLength: 24, maxLength: 24 }),
    });
    fc.assert(
      fc.property(fc.array(engine, { minLength: 1, maxLength: 4 }), (engines) => {
        const text = engines
          .flatMap((e, u) => [...e.cycles].sort((a, b) => a - b).map((c) => line(u + 1, c, e.values)))
          .join('\n');

        const file = parseCmapss(text);

        expect(file.engines.length).toBe(engines.length);
        file.engines.forEach((e, u) => {
          expect(e.cycles).toEqual([...engines[u]!.cycles].sort((a, b) => a - b));
          expect(Array.from(e.values.slice(0, 24))).toEqual(engines[u]!.values.map((v) => (v === 0 ? 0 : v)));
        });
      }),
      { numRuns: 50 },
    );
  });

  it('reads the real FD001 training file: 100 engines, 20,631 cycles (SOURCE.md)', () => {
    const file = readCmapss('../shared/data/cmapss/train_FD001.txt');

    expect(file.engines.length).toBe(100);
    expect(file.rows).toBe(20631);
    expect(Math.min(...file.engines.map((e) => e.cycles.length))).toBe(128);
    expect(Math.max(...file.engines.map((e) => e.cycles.length))).toBe(362);
  });
});

describe('parseRul', () => {
  it('reads one non-negative integer per line', () => {
    expect(parseRul('112 \n98\r\n\n69\n')).toEqual([112, 98, 69]);
  });

  it('names the line of a negative, fractional or two-column value', () => {
    expect(errorOf(() => parseRul('5\n-1\n', 'RUL_X.txt')).message).toBe(
      "RUL_X.txt:2:1: RUL must be a non-negative integer, got '-1'",
    );
    expect(errorOf(() => parseRul('5\n6\n7.5\n')).line).toBe(3);
    expect(errorOf(() => parseRul('1 112\n')).message).toMatch(/expected one RUL value, found 2 columns/);
  });
});

describe('engineEvents', () => {
  it('maps columns to catalog names with seq = cycle and increasing ts, up to lastCycle', () => {
    const file = parseCmapss([line(7, 3, VALUES), line(7, 4, VALUES), line(7, 9, VALUES)].join('\n'));

    const events = engineEvents(file.engines[0]!, 4);

    expect(CMAPSS_COLUMN_COUNT).toBe(26);
    expect(events.length).toBe(2);
    const [a, b] = events;
    if (a?.kind !== 'sample' || b?.kind !== 'sample') throw new Error('expected samples');
    expect([a.seq, b.seq]).toEqual([3, 4]);
    expect(b.ts).toBeGreaterThan(a.ts);
    expect(Object.keys(a.readings)).toEqual(CMAPSS_VALUE_COLUMNS);
    expect(a.readings.altitude).toBe(0.5);
    expect(a.readings.T2).toBe(3.5);
    expect(a.readings.W32).toBe(23.5);
  });
});
