"""Golden reference for the TS GBDT trainer (run with /usr/bin/python3; needs python3-xgboost 1.7.4).

Usage: golden.py <dir>. <dir>/cases.json lists cases written by test/ml/gbdt/golden.test.ts. For each
case this script
  1. loads the TS-written model and writes xgboost's margins (output_margin=True) for the train and
     test rows, so the test can compare them bit for bit with the trainer's own margins;
  2. trains xgboost tree_method=hist with the same hyperparameters on the same rows and reports test
     metrics of both models, computed here by the same code.
Results go to <dir>/results.json.
"""
import json
import os
import sys
import time

import numpy as np
import xgboost as xgb
from sklearn.metrics import roc_auc_score


def metrics(objective, margin, y):
    m = margin.astype(np.float64)
    if objective == "binary:logistic":
        p = np.clip(1.0 / (1.0 + np.exp(-m)), 1e-16, 1 - 1e-16)
        return {"auc": float(roc_auc_score(y, m)),
                "logloss": float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))}
    if objective == "reg:squarederror":
        return {"rmse": float(np.sqrt(np.mean((m - y) ** 2)))}
    mu = np.exp(m)
    with np.errstate(divide="ignore", invalid="ignore"):
        term = np.where(y > 0, y * np.log(y / mu), 0.0)
    return {"poisson_deviance": float(np.mean(2 * (term - (y - mu))))}


def load(d, name, f):
    return np.fromfile(os.path.join(d, name), dtype=np.float32).reshape(-1, f) if f else \
        np.fromfile(os.path.join(d, name), dtype=np.float32)


def main(d):
    with open(os.path.join(d, "cases.json")) as fh:
        cases = json.load(fh)
    out = {"xgboost_version": xgb.__version__, "cases": {}}
    for c in cases:
        f = c["f"]
        xtr, ytr = load(d, c["x_train"], f), load(d, c["y_train"], 0)
        xte, yte = load(d, c["x_test"], f), load(d, c["y_test"], 0)
        names = c.get("feature_names")
        dtr = xgb.DMatrix(xtr, label=ytr, feature_names=names)
        dte = xgb.DMatrix(xte, label=yte, feature_names=names)
        res = {}
        ts = xgb.Booster()
        ts.load_model(os.path.join(d, c["model"]))
        ts_tr = ts.predict(dtr, output_margin=True).astype(np.float32)
        ts_te = ts.predict(dte, output_margin=True).astype(np.float32)
        ts_tr.tofile(os.path.join(d, c["name"] + ".xgb_train_margin.f32"))
        ts_te.tofile(os.path.join(d, c["name"] + ".xgb_test_margin.f32"))
        res["ts"] = metrics(c["objective"], ts_te, yte)
        res["ts_num_trees"] = len(ts.get_dump())
        if c.get("reference", True):
            params = dict(c["xgb_params"], tree_method="hist", nthread=c.get("nthread", 1))
            t0 = time.perf_counter()
            ref = xgb.train(params, dtr, num_boost_round=c["rounds"])
            res["xgb_fit_seconds"] = time.perf_counter() - t0
            res["xgb"] = metrics(c["objective"], ref.predict(dte, output_margin=True), yte)
        out["cases"][c["name"]] = res
    with open(os.path.join(d, "results.json"), "w") as fh:
        json.dump(out, fh, indent=1)


if __name__ == "__main__":
    main(sys.argv[1])
