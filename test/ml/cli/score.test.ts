import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadXgboostModel } from '../../../lambdas/core/model/index.ts';
import { CsvInputError, parseFeatureCsv, scoreCsv } from '../../../ml/cli/score.ts';

const ROOT = join(import.meta.dirname, '../../..');
const SKIP = process.env.PDM_SKIP_GOLDEN === '1';

/** Trains two small xgboost models (named features, JSON; unnamed, UBJSON), writes a CSV, scores it. */
const PY = String.raw`
import sys, csv, json, numpy as np
try:
    import xgboost as xgb
except ImportError:
    sys.exit("xgboost missing: apt-get install -y python3-xgboost python3-sklearn")
d = sys.argv[1]
rng = np.random.default_rng(5)
n, f = 400, 6
X = rng.normal(size=(n, f)).astype(np.float32) * 3
X[rng.random(size=X.shape) < 0.1] = np.nan
y = ((np.nan_to_num(X[:, 0]) + 0.5 * np.nan_to_num(X[:, 2])) > 0.3).astype(np.float32)
names = ["vibration_mean_24h", "temperature_last", "flow_lag", "anomaly_prev", "rpm_std_1h", "current_last"]
p = {"objective": "binary:logistic", "max_depth": 3, "eta": 0.3, "base_score": 0.3}
xgb.train(p, xgb.DMatrix(X, label=y, feature_names=names), 20).save_model(d + "/named.json")
xgb.train({"objective": "reg:squarederror", "max_depth": 4}, xgb.DMatrix(X, label=y * 5 + np.nan_to_num(X[:, 1])), 15).save_model(d + "/plain.ubj")
# The CSV puts columns in another order than the model, with a header.
order = [3, 0, 5, 1, 4, 2]
with open(d + "/rows.csv", "w") as fh:
    fh.write(",".join(names[j] for j in order) + "\n")
    for r in X[:60]:
        fh.write(",".join("" if np.isnan(r[j]) else repr(float(r[j])) for j in order) + "\n")
# Without feature_names columns go by position: the same rows in model order.
with open(d + "/plain.csv", "w") as fh:
    fh.write(",".join("c%d" % j for j in range(f)) + "\n")
    for r in X[:60]:
        fh.write(",".join("" if np.isnan(v) else repr(float(v)) for v in r) + "\n")
def read_csv(path):
    with open(path) as fh:
        rows = list(csv.reader(fh))
    idx = [rows[0].index(nm) for nm in names]
    return np.array([[float("nan") if r[i] == "" else float(r[i]) for i in idx] for r in rows[1:]], dtype=np.float32)
A = read_csv(d + "/rows.csv")
out = {}
for name in ["named.json", "plain.ubj"]:
    b = xgb.Booster(); b.load_model(d + "/" + name)
    dm = xgb.DMatrix(A, feature_names=names if name == "named.json" else None)
    out[name] = {
        "pred": [str(float(v)) for v in b.predict(dm)],
        "margin": [str(float(v)) for v in b.predict(dm, output_margin=True)],
        "contribs": [[float(v) for v in r] for r in b.predict(dm, pred_contribs=True)],
    }
json.dump(out, open(d + "/xgb.json", "w"))
`;

const ulps = (a: number, b: number) => {
  const buf = new Float32Array([a, b]);
  const i = new Int32Array(buf.buffer);
  return Math.abs(i[0]! - i[1]!);
};

describe.skipIf(SKIP)('pdm score against xgboost 1.7.4', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pdm-score-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const py = spawnSync('/usr/bin/python3', ['-c', PY, dir], { encoding: 'utf8' });
  if (py.error || py.status !== 0) {
    throw new Error(
      `golden script failed (${py.error?.message ?? py.stderr}); install xgboost: apt-get install -y python3-xgboost python3-sklearn, or set PDM_SKIP_GOLDEN=1`,
    );
  }
  const ref = JSON.parse(readFileSync(join(dir, 'xgb.json'), 'utf8')) as Record<
    string,
    { pred: string[]; margin: string[]; contribs: number[][] }
  >;
  const csvFor = (model: string) => readFileSync(join(dir, model === 'plain.ubj' ? 'plain.csv' : 'rows.csv'), 'utf8');

  it('prints the same lines as the container for a named JSON model, through the command', () => {
    const out = execFileSync(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'test/ml/cli/run.ts'), 'score', '--model', join(dir, 'named.json'), '--input', join(dir, 'rows.csv'), '--margin'],
      { cwd: ROOT, encoding: 'utf8' },
    );

    expect(out.trimEnd().split('\n')).toEqual(ref['named.json']!.margin);
  });

  for (const name of ['named.json', 'plain.ubj']) {
    it(`matches xgboost outputs (≤2 ulps, expf) and contributions for ${name}`, () => {
      const bytes = new Uint8Array(readFileSync(join(dir, name)));
      const r = ref[name]!;

      const csv = csvFor(name);

      const pred = scoreCsv(bytes, csv);
      const margin = scoreCsv(bytes, csv, { margin: true });
      const contribs = scoreCsv(bytes, csv, { contribs: true });

      expect(margin).toEqual(r.margin);
      pred.forEach((line, i) => expect(ulps(Number(line), Number(r.pred[i]))).toBeLessThanOrEqual(2));
      contribs.forEach((line, i) => {
        const got = line.split(',').map(Number);
        const want = r.contribs[i]!;
        expect(got).toHaveLength(want.length);
        const tol = 1e-5 * Math.max(1, Math.abs(Number(r.margin[i])));
        got.forEach((v, j) => expect(Math.abs(v - want[j]!)).toBeLessThanOrEqual(tol));
      });
    });
  }
});

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
