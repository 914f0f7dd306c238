import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadXgboostModel } from '../../../lambdas/core/model/index.ts';
import { CsvInputError, scoreCsv, trainingCsvAsFeatureCsv } from '../../../ml/cli/score.ts';

const bytes = new Uint8Array(readFileSync('layers/model/centrifugal-pump/failure.json'));
const model = loadXgboostModel(bytes);
const names = model.featureNames!;

describe('pdm score --label-first', () => {
  it('scores a training CSV (label first, no header) exactly as the same rows with a header', () => {
    // Arrange: two rows, one with missing cells.
    const rows = [names.map((_n, i) => String(i % 7)), names.map((_n, i) => (i % 3 === 0 ? '' : String(i / 10)))];
    const training = rows.map((r, i) => [String(i % 2), ...r].join(',')).join('\n');
    const withHeader = [names.join(','), ...rows.map((r) => r.join(','))].join('\n');
    // Act / Assert
    expect(scoreCsv(bytes, training, { labelFirst: true })).toEqual(scoreCsv(bytes, withHeader));
  });

  it('names the line whose cell count is not the label plus the features', () => {
    expect(() => trainingCsvAsFeatureCsv('1,2,3\n', model)).toThrow(CsvInputError);
    expect(() => trainingCsvAsFeatureCsv('1,2,3\n', model)).toThrow(/line 1: 3 cells/);
  });
});
