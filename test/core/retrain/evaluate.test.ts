import { describe, expect, it } from 'vitest';
import { loadXgboostModel } from '../../../lambdas/core/model/model.ts';
import { singleTarFile, tarFiles, TarReadError, ustarSingleFile } from '../../../lambdas/core/model/tar.ts';
import { evaluateHoldout, HoldoutFormatError, parseHoldoutCsv } from '../../../lambdas/core/retrain/evaluate.ts';
import { modelObject, toXgboostUbjson } from '../model/fixtures.ts';

// One stump on feature 1: x1 < 0.5 → margin −2, else +2 (a sigmoid probability of 0.12 / 0.88).
const classifier = toXgboostUbjson(modelObject({ numFeatures: 2, objective: 'binary:logistic', baseScore: '5E-1', trees: [{ f: 1, cond: 0.5, defaultLeft: true, left: { leaf: -2 }, right: { leaf: 2 } }] }));
const regressor = toXgboostUbjson(modelObject({ numFeatures: 1, objective: 'reg:squarederror', baseScore: '0E0', trees: [{ f: 0, cond: 5, left: { leaf: 1 }, right: { leaf: 9 } }] }));

describe('evaluateHoldout', () => {
  it('scores a UBJSON classifier from a one-file archive on a label-first CSV slice: PR-AUC', () => {
    // Arrange: the model travels like SageMaker's output, one file in a tar.
    const { content } = singleTarFile(ustarSingleFile('xgboost-model', classifier));
    const model = loadXgboostModel(content);
    // Two positives, one ranked with the negatives (a missing x1 goes the default way: left).
    const csv = '1,0,1\n0,0,0\n1,0,\n0,3,0\n';

    // Act
    const m = evaluateHoldout(model, parseHoldoutCsv(csv), 'binary');

    // Assert: ranks [p, n|n|p tied]: AP = 0.5·1 + 0.5·(2/4) = 0.75.
    expect(m).toEqual({ rows: 4, positives: 2, prAuc: 0.75 });
  });

  it('reports the RMSE of a regressor in the scaled unit', () => {
    const model = loadXgboostModel(regressor);
    const m = evaluateHoldout(model, parseHoldoutCsv('3600000,1\n36000000,7\n'), 'regression', 3_600_000);
    // Predictions 1 and 9 ms against 1 h and 10 h: errors ≈ 1 h and ≈ 10 h.
    expect(m.rows).toBe(2);
    expect(m.rmse).toBeCloseTo(Math.sqrt(((3_600_000 - 1) ** 2 + (36_000_000 - 9) ** 2) / 2) / 3_600_000, 9);
  });

  it('refuses a CSV whose width differs from the model, ragged rows and text cells', () => {
    const model = loadXgboostModel(classifier);
    expect(() => evaluateHoldout(model, parseHoldoutCsv('1,0\n'), 'binary')).toThrow(HoldoutFormatError);
    expect(() => parseHoldoutCsv('1,0,1\n0,1\n')).toThrow(/row 2 has 2 cells/);
    expect(() => parseHoldoutCsv('1,x,1\n')).toThrow(/not a number/);
    expect(() => parseHoldoutCsv(',1,1\n')).toThrow(/no label/);
  });
});

describe('tar reader', () => {
  it('reads back what the writer wrote, and refuses archives with other than one file or a bad checksum', () => {
    const tar = ustarSingleFile('xgboost-model', new Uint8Array([1, 2, 3]));
    const files = tarFiles(tar);
    expect(files.map((f) => f.name)).toEqual(['xgboost-model']);
    expect([...files[0]!.content]).toEqual([1, 2, 3]);
    const two = Buffer.concat([ustarSingleFile('a', new Uint8Array([1])).subarray(0, 1024), ustarSingleFile('b', new Uint8Array([2]))]);
    expect(() => singleTarFile(two)).toThrow(/holds 2 files/);
    const bad = Buffer.from(tar);
    bad[0] = 0x41;
    expect(() => tarFiles(bad)).toThrow(TarReadError);
  });
});
