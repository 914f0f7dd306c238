import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AI4I_LEAKING_COLUMNS,
  Ai4iParseError,
  type Ai4iRow,
  ai4iFeatureNames,
  ai4iFeatures,
  parseAi4i,
} from '../../../ml/datasets/ai4i.ts';

const HEADER =
  'UDI,Product ID,Type,Air temperature [K],Process temperature [K],Rotational speed [rpm],Torque [Nm],Tool wear [min],Machine failure,TWF,HDF,PWF,OSF,RNF';
const ROW1 = '1,M14860,M,298.1,308.6,1551,42.8,0,0,0,0,0,0,0';
const ROW2 = '2,L47181,L,298.2,308.7,1408,46.3,3,1,0,1,0,0,0';

describe('parseAi4i', () => {
  it('reads the UCI original with BOM and CRLF line ends', () => {
    const rows = parseAi4i(`\uFEFF${HEADER}\r\n${ROW1}\r\n${ROW2}\r\n`);
    expect(rows).toHaveLength(2);
    expect(rows[1]).toMatchObject({ udi: 2, productId: 'L47181', type: 'L', rpm: 1408, machineFailure: 1 });
    expect(rows[1]!.modes).toEqual([0, 1, 0, 0, 0]);
  });

  it('reads LF line ends without a BOM', () => {
    expect(parseAi4i(`${HEADER}\n${ROW1}\n`)[0]!.airTempK).toBe(298.1);
  });

  it.each([
    ['', /line 1: empty/],
    [HEADER.replace(',Torque [Nm]', ''), /missing column\(s\) Torque \[Nm\]/],
    [`${HEADER}\n`, /no data rows/],
    [`${HEADER}\n1,M1,X,298,308,1500,40,0,0,0,0,0,0,0`, /line 2: Type must be L, M or H, got "X"/],
    [`${HEADER}\n1,M1,M,298,308,1500,40,0,0,0,0,0,0`, /line 2: expected 14 fields, got 13/],
    [`${HEADER}\n${ROW1}\n1,M1,M,298,abc,1500,40,0,0,0,0,0,0,0`, /line 3: Process temperature \[K\] is not a number/],
    [`${HEADER}\n1,M1,M,298,308,1500,40,0,2,0,0,0,0,0`, /Machine failure must be 0 or 1, got 2/],
    [`${HEADER}\n1,M1,M,298,308,,40,0,0,0,0,0,0,0`, /Rotational speed \[rpm\] is not a number: ""/],
  ])('rejects malformed input with a reason (%#)', (text, reason) => {
    expect(() => parseAi4i(text)).toThrow(Ai4iParseError);
    expect(() => parseAi4i(text)).toThrow(reason);
  });
});

describe('ai4iFeatures', () => {
  it('never names a leaking column as a feature', () => {
    const names = [...ai4iFeatureNames(true), ...ai4iFeatureNames(false)].map((n) => n.toLowerCase());
    for (const leak of AI4I_LEAKING_COLUMNS) {
      const key = leak.toLowerCase().replace(' ', '_');
      expect(names.some((n) => n.includes(key) || n === 'udi' || n.includes('product'))).toBe(false);
    }
    expect(names).not.toContain('machine_failure');
  });

  it('does not depend on UDI, Product ID, the failure-mode flags or the label', () => {
    const row = (t: number, leak: number[]): Ai4iRow => ({
      udi: leak[0]!,
      productId: `P${leak[1]}`,
      type: (['L', 'M', 'H'] as const)[t % 3]!,
      airTempK: 295 + t,
      processTempK: 305 + t,
      rpm: 1300 + 10 * t,
      torqueNm: 20 + t,
      toolWearMin: 3 * t,
      machineFailure: (leak[2]! % 2) as 0 | 1,
      modes: [leak[3]! % 2, leak[4]! % 2, leak[5]! % 2, leak[6]! % 2, leak[7]! % 2],
    });
    const leaks = fc.array(fc.nat(1000), { minLength: 8, maxLength: 8 });
    fc.assert(
      fc.property(fc.nat(20), leaks, leaks, fc.boolean(), (t, a, b, derived) => {
        expect(ai4iFeatures([row(t, a)], derived)).toEqual(ai4iFeatures([row(t, b)], derived));
      }),
      { numRuns: 100 },
    );
  });

  it('computes the physical features from their definitions', () => {
    const [r] = parseAi4i(`${HEADER}\n${ROW2}\n`);
    const x = ai4iFeatures([r!], true);
    const names = ai4iFeatureNames(true);
    expect(x[names.indexOf('type')]).toBe(0);
    expect(x[names.indexOf('delta_t_k')]).toBeCloseTo(10.5, 4);
    expect(x[names.indexOf('power_w')]).toBeCloseTo((46.3 * 1408 * 2 * Math.PI) / 60, 0);
    expect(x[names.indexOf('wear_torque')]).toBeCloseTo(3 * 46.3, 3);
  });
});
