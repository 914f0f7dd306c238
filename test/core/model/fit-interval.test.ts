import { describe, expect, it } from 'vitest';
import * as core from '../../../lambdas/core/model/fit-interval.ts';
import * as train from '../../../ml/train/conformal.ts';

describe('fit-interval', () => {
  it('is the one fit the local trainers import: the same function, error class and constants', () => {
    expect(train.fitRulInterval).toBe(core.fitRulInterval);
    expect(train.ConformalInputError).toBe(core.ConformalInputError);
    expect({ level: train.RUL_INTERVAL_LEVEL, rows: train.MIN_ROWS_PER_BIN, bins: train.MAX_BINS }).toEqual({ level: core.RUL_INTERVAL_LEVEL, rows: core.MIN_ROWS_PER_BIN, bins: core.MAX_BINS });
  });

  it('throws the error class the trainers catch when a Lambda gives it too few rows', () => {
    expect(() => core.fitRulInterval([1, 2, 3], [1, 2, 3], 'x')).toThrow(train.ConformalInputError);
  });
});
