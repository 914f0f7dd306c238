"""Python side of ml/bench/models-bench.ts: xgboost and scikit-learn on the matrices the TS side wrote.

Usage: models_bench.py <dir>  (run with /usr/bin/python3: python3-xgboost 1.7.4, python3-sklearn 1.2.1).
<dir>/cases.json lists the cases. Each names CSV files (header `label,<features>`, one row per line,
float32 values in text that reads back to the same float32, empty field = NaN), the task, the shared
hyperparameters and the TS-written model. For every case and engine this script trains on `train`,
predicts `valid` (when present) and `test`, and times training and scoring on one thread. Metrics are
computed by the TS side from the returned predictions, so every engine is scored by the same code.
Results go to <dir>/results.json.

Single thread: the caller sets OMP_NUM_THREADS=1 (sklearn's histogram GBDT uses OpenMP) and xgboost
gets nthread=1; the forest gets n_jobs=1.
"""
import json
import math
import os
import platform
import sys
import time

import numpy as np
import sklearn
import xgboost as xgb
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)


def read_csv(path):
    with open(path) as fh:
        header = fh.readline().rstrip("\n").split(",")
        nan = math.nan
        rows = [[float(v) if v else nan for v in line.rstrip("\n").split(",")] for line in fh]
    m = np.asarray(rows, dtype=np.float64)
    if m.shape[1] != len(header):
        raise SystemExit(f"{path}: {m.shape[1]} columns, header has {len(header)}")
    # float64 -> float32 is exact: the TS side wrote float32 values.
    return header[1:], np.ascontiguousarray(m[:, 1:], dtype=np.float32), m[:, 0].astype(np.float32)


def score_rate(fn, x):
    """Best-of rows/s of fn(x): one warm-up pass, then passes until 3 are done or 2 s have been spent."""
    fn(x)
    best = math.inf
    spent = 0.0
    runs = 0
    while runs < 3 and (runs == 0 or spent < 2.0):
        t0 = time.perf_counter()
        fn(x)
        dt = time.perf_counter() - t0
        best = min(best, dt)
        spent += dt
        runs += 1
    return x.shape[0] / best


def tolist(a):
    return [float(v) for v in a]


def run_xgboost(case, x, y, xv, xt, xrep):
    p = case["params"]
    params = {
        "tree_method": "hist",
        "objective": p["objective"],
        "eta": p["eta"],
        "max_depth": p["maxDepth"],
        "lambda": p["lambda"],
        "alpha": 0.0,
        "gamma": p["gamma"],
        "min_child_weight": p["minChildWeight"],
        "max_bin": p["maxBin"],
        "base_score": p["baseScore"],
        "subsample": 1.0,
        "colsample_bytree": 1.0,
        "nthread": 1,
        "seed": 0,
    }
    t0 = time.perf_counter()
    dm = xgb.DMatrix(x, label=y, nthread=1)
    booster = xgb.train(params, dm, num_boost_round=p["nRounds"])
    train_s = time.perf_counter() - t0

    def pred(m):
        return booster.inplace_predict(m)

    out = {"trainSeconds": train_s, "test": tolist(pred(xt)), "scoreRowsPerSec": score_rate(pred, xrep)}
    if xv is not None:
        out["valid"] = tolist(pred(xv))
    return out


def run_sklearn(model, binary, xfit, y, xv, xt, xrep):
    t0 = time.perf_counter()
    model.fit(xfit, y)
    train_s = time.perf_counter() - t0

    def pred(m):
        return model.predict_proba(m)[:, 1] if binary else model.predict(m)

    out = {"trainSeconds": train_s, "test": tolist(pred(xt)), "scoreRowsPerSec": score_rate(pred, xrep)}
    if xv is not None:
        out["valid"] = tolist(pred(xv))
    return out


def hgb(case, binary):
    p = case["params"]
    # sklearn's max_depth counts edges root->leaf like xgboost's; max_leaf_nodes=None lets depth be the only
    # size limit, as in xgboost's depth-wise growth. With squared error every row has hessian 1, so
    # min_child_weight=1 is min_samples_leaf=1. max_bins 255 is sklearn's maximum (+1 missing bin).
    kw = dict(
        learning_rate=p["eta"],
        max_iter=p["nRounds"],
        max_depth=p["maxDepth"],
        max_leaf_nodes=None,
        min_samples_leaf=max(1, int(p["minChildWeight"])),
        l2_regularization=p["lambda"],
        max_bins=min(255, p["maxBin"]),
        early_stopping=False,
        random_state=0,
    )
    return HistGradientBoostingClassifier(**kw) if binary else HistGradientBoostingRegressor(**kw)


def forest(case, binary):
    r = case["rf"]
    kw = dict(
        n_estimators=r["nEstimators"],
        max_features=r["maxFeatures"],
        min_samples_leaf=r["minSamplesLeaf"],
        n_jobs=1,
        random_state=0,
    )
    return RandomForestClassifier(**kw) if binary else RandomForestRegressor(**kw)


def impute(m, med):
    out = m.copy()
    idx = np.where(np.isnan(out))
    out[idx] = np.take(med, idx[1])
    return out


def run_case(case, d):
    names, x, y = read_csv(os.path.join(d, case["train"]))
    _, xt, yt = read_csv(os.path.join(d, case["test"]))
    xv = None
    if case.get("valid"):
        _, xv, _ = read_csv(os.path.join(d, case["valid"]))
    reps = max(1, math.ceil(case["scoreRows"] / xt.shape[0]))
    xrep = np.ascontiguousarray(np.tile(xt, (reps, 1)))
    binary = case["task"] == "binary"
    engines = {}
    want = case["engines"]
    if "xgboost" in want:
        engines["xgboost"] = run_xgboost(case, x, y, xv, xt, xrep)
    if "sklearn-hgb" in want:
        engines["sklearn-hgb"] = run_sklearn(hgb(case, binary), binary, x, y, xv, xt, xrep)
    if "sklearn-rf" in want:
        # RandomForest in sklearn 1.2 rejects NaN: fill with the training medians (RF only). Imputing the
        # scoring matrix happens before the timed passes.
        med = np.nanmedian(x, axis=0)
        med = np.where(np.isnan(med), 0.0, med).astype(np.float32)
        xi = impute(x, med)
        xvi = impute(xv, med) if xv is not None else None
        engines["sklearn-rf"] = run_sklearn(
            forest(case, binary), binary, xi, y, xvi, impute(xt, med), impute(xrep, med)
        )
    # libxgboost scoring the model our trainer wrote: an independent check of our evaluator's outputs.
    ours = xgb.Booster(model_file=os.path.join(d, case["oursModel"]))
    ours.set_param({"nthread": 1})
    return {
        "features": len(names),
        "trainRows": int(x.shape[0]),
        "testRows": int(xt.shape[0]),
        "scoreRows": int(xrep.shape[0]),
        "engines": engines,
        "oursByXgboost": tolist(ours.inplace_predict(xt)),
    }


def main():
    d = sys.argv[1]
    with open(os.path.join(d, "cases.json")) as fh:
        spec = json.load(fh)
    out = {
        "versions": {
            "python": platform.python_version(),
            "xgboost": xgb.__version__,
            "sklearn": sklearn.__version__,
            "numpy": np.__version__,
        },
        "cases": {c["name"]: run_case(c, d) for c in spec["cases"]},
    }
    with open(os.path.join(d, "results.json"), "w") as fh:
        json.dump(out, fh)


if __name__ == "__main__":
    main()
