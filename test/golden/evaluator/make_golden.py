"""Write golden artefacts for the TypeScript evaluator parity test.

Usage: /usr/bin/python3 make_golden.py OUT_DIR [--small]

--small writes the reduced set committed under test/golden/fixtures/evaluator (fewer rows and trees, the
same cases), which `npm test` reads without Python; `npm run golden` regenerates it.

For each case it writes OUT_DIR/<case>.json (and .ubj), and the reference outputs of libxgboost as raw
little-endian float32: <case>.margin.f32, <case>.pred.f32, <case>.contribs.f32 (first N_SHAP rows,
numFeatures+1 columns). The shared test matrix is X.f32 (row-major). manifest.json describes it all.
"""
import json
import os
import sys

import numpy as np
import xgboost as xgb

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from golden_common import N_FEATURES, labels, make_dataset, train  # noqa: E402

SEED = 20240611
# name, objective, rounds, base_score, shap rows (the live parity run; --small divides rows and trees).
CASES = [
    ("logistic", "binary:logistic", 300, None, 1000),
    ("squarederror", "reg:squarederror", 200, None, 300),
    ("poisson", "count:poisson", 200, None, 300),
    ("cox", "survival:cox", 100, None, 0),
    ("logistic_bs03", "binary:logistic", 100, 0.3, 300),
]


def write_f32(path, arr):
    np.ascontiguousarray(arr, dtype="<f4").tofile(path)


def reference(bst, X, dtest, out, name, n_shap):
    margin = bst.predict(dtest, output_margin=True)
    pred = bst.predict(dtest)
    write_f32(os.path.join(out, name + ".margin.f32"), margin)
    write_f32(os.path.join(out, name + ".pred.f32"), pred)
    if n_shap > 0:
        dshap = xgb.DMatrix(X[:n_shap], missing=np.nan)
        contribs = bst.predict(dshap, pred_contribs=True)
        write_f32(os.path.join(out, name + ".contribs.f32"), contribs)


def main():
    out = sys.argv[1]
    small = "--small" in sys.argv[2:]
    # The committed set stays small enough to keep in git: 2,000 test rows and a fifth of the trees.
    n_train, n_test, shrink = (5000, 2000, 5) if small else (20000, 10000, 1)
    os.makedirs(out, exist_ok=True)
    X_train, f_train = make_dataset(n_train, SEED)
    X_test, _ = make_dataset(n_test, SEED + 100)
    write_f32(os.path.join(out, "X.f32"), X_test)
    dtest = xgb.DMatrix(X_test, missing=np.nan)
    manifest = {"xgboost": xgb.__version__, "nRows": n_test, "nFeatures": N_FEATURES, "cases": []}
    for name, objective, full_rounds, base_score, full_shap in CASES:
        rounds, n_shap = full_rounds // shrink, full_shap // shrink
        bst = train(objective, X_train, labels(objective, f_train, SEED), rounds, base_score)
        bst.save_model(os.path.join(out, name + ".json"))
        bst.save_model(os.path.join(out, name + ".ubj"))
        reference(bst, X_test, dtest, out, name, n_shap)
        manifest["cases"].append(
            {"name": name, "objective": objective, "trees": rounds, "shapRows": n_shap}
        )

    # Array-form base_score as xgboost >= 3.1 writes it. 1.7.4 would silently ignore the array, so the
    # reference comes from the same model with the equivalent scalar string, which 1.7.4 does read.
    with open(os.path.join(out, "logistic.json")) as fh:
        model = json.load(fh)
    model["learner"]["learner_model_param"]["base_score"] = "5.449E-1"
    # Re-serialising through Python's json keeps floats as float literals (e.g. 4.0), which xgboost accepts.
    with open(os.path.join(out, "logistic_bs_scalar.json"), "w") as fh:
        json.dump(model, fh)
    model["learner"]["learner_model_param"]["base_score"] = "[5.449E-1]"
    with open(os.path.join(out, "logistic_bs_array.json"), "w") as fh:
        json.dump(model, fh)
    bst = xgb.Booster()
    bst.load_model(os.path.join(out, "logistic_bs_scalar.json"))
    reference(bst, X_test, dtest, out, "logistic_bs_scalar", 0)
    if small:
        # The test reads the array form and the scalar form's margins; the scalar model is only the means.
        os.remove(os.path.join(out, "logistic_bs_scalar.json"))

    with open(os.path.join(out, "manifest.json"), "w") as fh:
        json.dump(manifest, fh, indent=2)


if __name__ == "__main__":
    main()
