import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadXgboostModel } from '../../../lambdas/core/model/index.ts';
import { CsvInputError, parseFeatureCsv } from '../../../ml/cli/score.ts';
import { scoreParity } from './score-suite.ts';

// The committed reference (regenerate: `npm run golden`); live: test/parity/score.test.ts.
scoreParity('pdm score against xgboost 1.7.4 (committed reference)', () =>
  join(import.meta.dirname, '../../golden/fixtures/score'),
);

describe('parseFeatureCsv', () => {
  const named = loadXgboostModel(
    JSON.stringify({
      learner: {
        attributes: {},
        feature_names: ['a', 'b'],
        feature_types: ['float', 'float'],
        gradient_booster: {
          model: {
            gbtree_model_param: { num_parallel_tree: '1', num_trees: '1' },
            tree_info: [0],
            trees: [
              {
                base_weights: [0.5],
                categories: [],
                categories_nodes: [],
                categories_segments: [],
                categories_sizes: [],
                default_left: [0],
                id: 0,
                left_children: [-1],
                loss_changes: [0.5],
                parents: [2147483647],
                right_children: [-1],
                split_conditions: [0.5],
                split_indices: [0],
                split_type: [0],
                sum_hessian: [1.5],
                tree_param: { num_deleted: '0', num_feature: '2', num_nodes: '1', size_leaf_vector: '0' },
              },
            ],
          },
          name: 'gbtree',
        },
        learner_model_param: { base_score: '5E-1', num_class: '0', num_feature: '2', num_target: '1' },
        objective: { name: 'reg:squarederror', reg_loss_param: { scale_pos_weight: '1' } },
      },
      version: [1, 7, 4],
    }),
  );

  it('maps columns by name, ignoring extra columns, with empty cells missing', () => {
    const { x, n } = parseFeatureCsv('z,b,a\n9,2,\n9,,1.5\n', named);

    expect(n).toBe(2);
    expect(Array.from(x)).toEqual([Number.NaN, 2, 1.5, Number.NaN]);
  });

  it('names the line and column of a cell that is not a number', () => {
    expect(() => parseFeatureCsv('a,b\n1,2\n3,x7\n', named)).toThrow(/line 3, column 2 \("b"\)/);
  });

  it('names the columns the model needs that the header lacks', () => {
    expect(() => parseFeatureCsv('a,c\n1,2\n', named)).toThrow(CsvInputError);
    expect(() => parseFeatureCsv('a,c\n1,2\n', named)).toThrow(/needs column\(s\) b/);
  });

  it('refuses a row with a different cell count', () => {
    expect(() => parseFeatureCsv('a,b\n1\n', named)).toThrow(/line 2: 1 cells, the header has 2/);
  });
});
