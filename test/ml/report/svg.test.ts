import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { niceTicks, ReportInputError, svgBars, svgCurve, svgScatter } from '../../../ml/report/svg.ts';
import { assertInsideViewBox, assertWellFormed, drawnPoints, viewBox } from './svg-check.ts';

const finite = fc.double({ min: -1e6, max: 1e6, noNaN: true, noDefaultInfinity: true });
const point = fc.record({ x: finite, y: finite });

describe('niceTicks', () => {
  it('ends, with few distinct ticks, when the span is tiny next to the values', () => {
    const ticks = niceTicks(1e6, 1e6 + 1e-10);
    expect(ticks.length).toBeGreaterThan(0);
    expect(ticks.length).toBeLessThanOrEqual(22);
    expect(new Set(ticks).size).toBe(ticks.length);
  });

  it('gives one finite tick for a subnormal span', () => {
    expect(niceTicks(0, 5e-324)).toEqual([0]);
  });
});

describe('svg-check', () => {
  it('rejects unbalanced tags, unquoted attributes and raw markup in text', () => {
    // Arrange/Act/Assert: the checker must be able to fail, or the tests below prove nothing.
    expect(() => assertWellFormed('<svg><g></svg>')).toThrow(/closes/);
    expect(() => assertWellFormed('<svg x=1></svg>')).toThrow(/malformed/);
    expect(() => assertWellFormed('<svg><text>a & b</text></svg>')).toThrow(/bare &/);
    expect(() => assertWellFormed('<svg><text>a > b</text></svg>')).toThrow(/raw >/);
    expect(() => assertInsideViewBox('<svg viewBox="0 0 10 10"><circle cx="11" cy="2"/></svg>')).toThrow(/outside/);
  });
});

describe('niceTicks', () => {
  it('returns increasing 1-2-5 steps that cover the range', () => {
    fc.assert(
      fc.property(finite, fc.double({ min: 1e-3, max: 1e6, noNaN: true }), (lo, span) => {
        const t = niceTicks(lo, lo + span);
        expect(t.length).toBeGreaterThanOrEqual(2);
        const step = t[1]! - t[0]!;
        const mant = step / 10 ** Math.floor(Math.log10(step));
        expect([1, 2, 5, 10].some((m) => Math.abs(mant - m) < 1e-6)).toBe(true);
        for (let i = 1; i < t.length; i++) expect(t[i]!).toBeGreaterThan(t[i - 1]!);
        expect(t[0]!).toBeGreaterThanOrEqual(lo - step * 1e-6);
        expect(t[t.length - 1]!).toBeLessThanOrEqual(lo + span + step * 1e-6);
      }),
      { numRuns: 200 },
    );
  });
});

describe('svgScatter', () => {
  it('draws one circle per point, all inside the viewBox, as well-formed XML', () => {
    fc.assert(
      fc.property(fc.array(point, { minLength: 1, maxLength: 60 }), fc.boolean(), (points, identity) => {
        const svg = svgScatter({ series: [{ name: 's', points }], identity, title: 't', xLabel: 'x', yLabel: 'y' });
        assertWellFormed(svg);
        assertInsideViewBox(svg);
        expect(svg.match(/<circle/g)?.length).toBe(points.length);
      }),
      { numRuns: 150, examples: [[[{ x: 0, y: 0 }, { x: 0, y: 5e-324 }], false], [[{ x: 1e6, y: 1 }, { x: 1e6 + 1e-10, y: 2 }], true]] },
    );
  });

  it('puts y = x through points with equal coordinates', () => {
    // Arrange: two points on the identity line at the ends of the data range.
    const svg = svgScatter({ series: [{ name: 's', points: [{ x: 0, y: 0 }, { x: 100, y: 100 }, { x: 50, y: 20 }] }] });
    // Act
    const line = svg.match(/<line[^>]*stroke-dasharray[^>]*>/)![0];
    const circles = [...svg.matchAll(/<circle cx="([\d.]+)" cy="([\d.]+)"/g)].map((m) => [Number(m[1]), Number(m[2])]);
    const [x1, y1, x2, y2] = ['x1', 'y1', 'x2', 'y2'].map((a) => Number(line.match(new RegExp(`${a}="([\\d.]+)"`))![1]));
    // Assert: the on-diagonal points lie on the drawn segment (collinear within rounding), the other does not.
    const cross = ([px, py]: number[]) => Math.abs((x2! - x1!) * (py! - y1!) - (y2! - y1!) * (px! - x1!));
    expect(cross(circles[0]!)).toBeLessThan(200);
    expect(cross(circles[1]!)).toBeLessThan(200);
    expect(cross(circles[2]!)).toBeGreaterThan(1e4);
  });

  it('maps larger values right and up', () => {
    const svg = svgScatter({ series: [{ name: 's', points: [{ x: 1, y: 1 }, { x: 9, y: 3 }] }], identity: false });
    const [a, b] = drawnPoints(svg.match(/<circle[^>]*>/g)!.join(''));
    expect(b![0]).toBeGreaterThan(a![0]);
    expect(b![1]).toBeLessThan(a![1]); // SVG y grows downwards
  });

  it('shows an empty state for no points', () => {
    const svg = svgScatter({ series: [{ name: 's', points: [] }] });
    assertWellFormed(svg);
    expect(svg).toContain('no data');
    expect(svg).not.toContain('<circle');
  });

  it('rejects a NaN coordinate with the series and index', () => {
    expect(() => svgScatter({ series: [{ name: 'model A', points: [{ x: 1, y: 2 }, { x: Number.NaN, y: 2 }] }] })).toThrow(
      ReportInputError,
    );
    expect(() => svgScatter({ series: [{ name: 'model A', points: [{ x: 1, y: Number.POSITIVE_INFINITY }] }] })).toThrow(
      /model A.*point 0/,
    );
  });

  it('escapes labels and series names', () => {
    const svg = svgScatter({
      title: '<script>alert(1)</script>',
      xLabel: 'a & b',
      series: [
        { name: '"x"<', points: [{ x: 1, y: 1 }] },
        { name: 'y', points: [{ x: 2, y: 2 }] },
      ],
    });
    assertWellFormed(svg);
    expect(svg).not.toContain('<script>');
    expect(svg).toContain('&lt;script&gt;');
    expect(svg).toContain('a &amp; b');
  });
});

describe('svgCurve', () => {
  it('keeps every series vertex inside the viewBox, including data outside [0, 1]', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(point, { minLength: 0, maxLength: 40 }), { minLength: 1, maxLength: 4 }),
        (seriesPoints) => {
          const svg = svgCurve({
            series: seriesPoints.map((points, i) => ({ name: `s${i}`, points })),
            diagonal: true,
            baselineY: 0.1,
          });
          assertWellFormed(svg);
          assertInsideViewBox(svg);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('draws one polyline per non-empty series with all its points', () => {
    const svg = svgCurve({
      series: [
        { name: 'a', points: [{ x: 0, y: 0 }, { x: 0.5, y: 0.8 }, { x: 1, y: 1 }] },
        { name: 'b', points: [] },
        { name: 'c', points: [{ x: 0, y: 1 }, { x: 1, y: 0 }] },
      ],
    });
    const lines = svg.match(/<polyline points="[^"]*"/g)!;
    expect(lines).toHaveLength(2);
    expect(lines[0]!.split(' ').length).toBe(3 + 1);
    const [w, h] = viewBox(svg);
    expect([w, h]).toEqual([640, 420]);
  });

  it('shows an empty state when no series has points, and rejects a NaN baseline', () => {
    expect(svgCurve({ series: [] })).toContain('no data');
    expect(() => svgCurve({ series: [{ name: 'a', points: [{ x: 0, y: 0 }] }], baselineY: Number.NaN })).toThrow(
      ReportInputError,
    );
  });
});

describe('svgBars', () => {
  it('draws categories × series bars whose heights are proportional to the values', () => {
    const svg = svgBars({
      categories: ['comp1', 'comp2'],
      series: [
        { name: 'precision', values: [0.5, 1] },
        { name: 'recall', values: [0.25, 0] },
      ],
    });
    assertWellFormed(svg);
    assertInsideViewBox(svg);
    const heights = [...svg.matchAll(/<rect x="[\d.]+" y="[\d.]+" width="[\d.]+" height="([\d.]+)" fill="[^"]*"><title>/g)].map((m) =>
      Number(m[1]),
    );
    expect(heights).toHaveLength(4);
    // order: comp1 precision, comp1 recall, comp2 precision, comp2 recall
    expect(heights[0]! / heights[2]!).toBeCloseTo(0.5, 2);
    expect(heights[1]! / heights[2]!).toBeCloseTo(0.25, 2);
    expect(heights[3]).toBe(0);
  });

  it('rejects mismatched lengths and negative or NaN values', () => {
    expect(() => svgBars({ categories: ['a', 'b'], series: [{ name: 'p', values: [1] }] })).toThrow(/1 values for 2/);
    expect(() => svgBars({ categories: ['a'], series: [{ name: 'p', values: [Number.NaN] }] })).toThrow(ReportInputError);
    expect(() => svgBars({ categories: ['a'], series: [{ name: 'p', values: [-0.1] }] })).toThrow(/≥ 0/);
  });

  it('shows an empty state without categories', () => {
    const svg = svgBars({ categories: [], series: [] });
    assertWellFormed(svg);
    expect(svg).toContain('no data');
  });
});
