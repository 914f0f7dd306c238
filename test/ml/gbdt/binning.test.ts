import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { binMatrix, computeCuts, train, valueBin } from '../../../ml/gbdt/index.ts';
import { walkMargins } from './walk.ts';

const column = (values: number[]): Float32Array => Float32Array.from(values);

describe('computeCuts', () => {
  it('gives every distinct value its own bin when there are fewer distinct values than bins', () => {
    const x = column([3, 1, 2, 2, 1, 3, 5]);
    const { cuts } = computeCuts(x, x.length, 1, 256);
    expect(Array.from(cuts[0]!)).toEqual([2, 3, 5]);
    expect(Array.from(x, (v) => valueBin(cuts[0]!, v))).toEqual([2, 0, 1, 1, 0, 2, 3]);
  });

  it('keeps cuts strictly increasing when many values are duplicates', () => {
    const values = [...Array(900).fill(0), ...Array.from({ length: 100 }, (_, i) => i + 1)];
    const { cuts } = computeCuts(column(values), values.length, 1, 16);
    const c = Array.from(cuts[0]!);
    expect(c.length).toBeLessThanOrEqual(15);
    for (let i = 1; i < c.length; i++) expect(c[i]!).toBeGreaterThan(c[i - 1]!);
    // The heavy atom at 0 stays in one bin, below the first cut.
    expect(c[0]!).toBeGreaterThan(0);
  });

  it('puts -0 and +0 in one bin and never emits -0 as a cut', () => {
    const x = column([-0, 0, -0, 1, -1, 0]);
    const { cuts } = computeCuts(x, x.length, 1, 256);
    expect(Array.from(cuts[0]!)).toEqual([0, 1]);
    expect(Object.is(cuts[0]![0], -0)).toBe(false);
    expect(valueBin(cuts[0]!, -0)).toBe(valueBin(cuts[0]!, 0));
  });

  it('handles ranges up to the float32 limits with finite cuts', () => {
    const values = Array.from({ length: 2000 }, (_, i) => (i % 2 ? 1 : -1) * 3.4e38 * (i / 2000) ** 3);
    values.push(1e-40, -1e-40);
    const { cuts } = computeCuts(column(values), values.length, 1, 64);
    const c = cuts[0]!;
    expect(c.length).toBe(63);
    expect(c.every(Number.isFinite)).toBe(true);
  });

  it('gives an all-NaN feature no cuts and a constant feature none either', () => {
    const n = 50;
    const x = new Float32Array(n * 2);
    for (let i = 0; i < n; i++) {
      x[i * 2] = Number.NaN;
      x[i * 2 + 1] = 7;
    }
    const bc = computeCuts(x, n, 2, 256);
    expect(bc.cuts[0]!.length).toBe(0);
    expect(bc.cuts[1]!.length).toBe(0);
  });

  it('weights the quantiles by sample weight', () => {
    // 100 rows at 0 with weight 1, 100 rows at 1..100 with weight 0.01: nearly all weight is at 0.
    const values = [...Array(100).fill(0), ...Array.from({ length: 100 }, (_, i) => i + 1)];
    const w = Float32Array.from(values, (v) => (v === 0 ? 1 : 0.01));
    const weighted = computeCuts(column(values), values.length, 1, 4, w).cuts[0]!;
    const plain = computeCuts(column(values), values.length, 1, 4).cuts[0]!;
    expect(weighted[0]!).toBe(1);
    expect(plain[0]!).toBe(1);
    // Unweighted, the upper quartiles split 1..100; weighted, they collapse onto the first values.
    expect(plain[plain.length - 1]!).toBeGreaterThan(weighted[weighted.length - 1]!);
  });

  it('satisfies bin(x) ≤ b ⇔ x < cut[b] for every value and cut', () => {
    fc.assert(
      fc.property(
        fc.array(fc.float({ noNaN: true, noDefaultInfinity: true }), { minLength: 1, maxLength: 300 }),
        fc.integer({ min: 2, max: 40 }),
        (vals, maxBin) => {
          const x = Float32Array.from(vals);
          const c = computeCuts(x, x.length, 1, maxBin).cuts[0]!;
          expect(c.length).toBeLessThanOrEqual(maxBin - 1);
          for (const v of x) {
            const bin = valueBin(c, v);
            for (let b = 0; b < c.length; b++) expect(bin <= b).toBe(v < c[b]!);
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('binMatrix', () => {
  it('keeps the missing slot outside the value range and the highest value bin reachable', () => {
    const n = 1000;
    const x = Float32Array.from({ length: n }, (_, i) => (i % 50 === 0 ? Number.NaN : i));
    const bc = computeCuts(x, n, 1, 256);
    const k = bc.cuts[0]!.length;
    expect(k).toBe(255);
    const slots = binMatrix(x, n, 1, bc);
    const missing = bc.offsets[0]! + k + 1;
    expect(slots[0]).toBe(missing);
    expect(slots[999]).toBe(bc.offsets[0]! + k);
    const topBinRows = Array.from(slots).filter((s) => s === k).length;
    expect(topBinRows).toBeGreaterThan(0);
    expect(bc.totalSlots).toBe(k + 2);
  });
});

describe('train on the highest value bin', () => {
  it('splits at the top cut and routes rows exactly as the x < cut test does', () => {
    // Arrange: 512 distinct values, 256 bins → 255 cuts; only rows in the top value bin have y = 10,
    // and missing rows have y = 0. Were the missing bin to overlap the top bin, NaN rows would share
    // its leaf.
    const n = 600;
    const x = new Float32Array(n);
    for (let i = 0; i < n; i++) x[i] = i < 512 ? i : Number.NaN;
    const bc = computeCuts(x, n, 1, 256);
    const top = bc.cuts[0]![bc.cuts[0]!.length - 1]!;
    const y = Float32Array.from(x, (v) => (v >= top ? 10 : 0));

    // Act
    const b = train(
      { objective: 'reg:squarederror', nRounds: 1, maxDepth: 1, eta: 1, lambda: 0, minChildWeight: 0 },
      { x, n, f: 1, y },
    );

    // Assert
    const t = b.trees[0]!;
    expect(t.left[0]).toBe(1);
    expect(t.cond[0]).toBe(top);
    const walked = walkMargins(b, x, n, 1);
    expect(Array.from(b.trainMargins)).toEqual(Array.from(walked));
    const topMargin = b.trainMargins[511]!;
    const nanMargin = b.trainMargins[599]!;
    expect(topMargin).toBeCloseTo(10, 5);
    expect(nanMargin).not.toBe(topMargin);
    for (let i = 0; i < n; i++) expect(b.trainMargins[i]).toBe(x[i]! >= top ? topMargin : nanMargin);
  });
});
