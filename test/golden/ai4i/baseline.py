"""xgboost baseline for the AI4I 2020 evaluation (run with /usr/bin/python3; needs python3-xgboost 1.7.4
and python3-sklearn).

Usage: baseline.py <dir>. <dir>/cases.json lists cases written by ml/evaluate/ai4i.ts. Each case names a
CSV whose rows are `split,label,<features...>` (split: train / valid / test), the hyperparameters, and
the TS-written model. For each case this script
  1. trains xgboost tree_method=hist with the same hyperparameters and early stopping on the same
     validation rows, picks the F1-best threshold on validation, and scores the test rows;
  2. scores the TS model with xgboost itself and recomputes the TS side's test metrics with sklearn, as
     an independent check of the TypeScript metric code and of the model file.
Results go to <dir>/results.json.
"""
import csv
import json
import os
import sys

import numpy as np
import xgboost as xgb
from sklearn.metrics import average_precision_score, precision_recall_curve, roc_auc_score


def read_case(path):
    split, label, rows = [], [], []
    with open(path, newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        for r in reader:
            split.append(r[0])
            label.append(float(r[1]))
            rows.append([float(v) for v in r[2:]])
    x = np.asarray(rows, dtype=np.float32)
    y = np.asarray(label, dtype=np.float32)
    s = np.asarray(split)
    return header[2:], x, y, s


def best_threshold(p, y):
    """F1-best cut with `p >= threshold` positive; ties keep the higher threshold."""
    prec, rec, thr = precision_recall_curve(y, p)
    f1 = np.where(prec + rec > 0, 2 * prec * rec / np.maximum(prec + rec, 1e-300), 0.0)[:-1]
    best = -1.0
    out = float("inf")
    for i in range(len(thr) - 1, -1, -1):
        if f1[i] > best:
            best = f1[i]
            out = float(thr[i])
    return out


def at(p, y, t):
    pred = p >= t
    tp = float(np.sum(pred & (y > 0.5)))
    fp = float(np.sum(pred & (y < 0.5)))
    fn = float(np.sum(~pred & (y > 0.5)))
    precision = tp / (tp + fp) if tp + fp > 0 else 0.0
    recall = tp / (tp + fn) if tp + fn > 0 else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    return {"threshold": t, "precision": precision, "recall": recall, "f1": f1}


def summary(p, y, t):
    out = {"prAuc": float(average_precision_score(y, p)), "rocAuc": float(roc_auc_score(y, p))}
    out.update(at(p, y, t))
    return out


def main(d):
    with open(os.path.join(d, "cases.json")) as fh:
        cases = json.load(fh)
    results = {"xgboost_version": xgb.__version__, "cases": []}
    for c in cases:
        names, x, y, s = read_case(os.path.join(d, c["csv"]))
        tr, va, te = s == "train", s == "valid", s == "test"
        dtr = xgb.DMatrix(x[tr], label=y[tr], feature_names=names)
        dva = xgb.DMatrix(x[va], label=y[va], feature_names=names)
        dte = xgb.DMatrix(x[te], label=y[te], feature_names=names)
        p = c["params"]
        params = {
            "objective": "binary:logistic",
            "tree_method": "hist",
            "eta": p["eta"],
            "max_depth": p["maxDepth"],
            "lambda": p["lambda"],
            "gamma": p["gamma"],
            "min_child_weight": p["minChildWeight"],
            "max_bin": p["maxBin"],
            "subsample": p["subsample"],
            "colsample_bytree": p["colsampleBytree"],
            "base_score": p["baseScore"],
            "eval_metric": p["evalMetric"],
            "seed": p["seed"],
            "nthread": 1,
        }
        booster = xgb.train(params, dtr, num_boost_round=p["nRounds"], evals=[(dva, "valid")],
                            early_stopping_rounds=p["earlyStoppingRounds"], verbose_eval=False)
        rng = (0, booster.best_iteration + 1)
        pv = booster.predict(dva, iteration_range=rng)
        pt = booster.predict(dte, iteration_range=rng)
        thr = best_threshold(pv, y[va])
        xgb_res = summary(pt, y[te], thr)
        xgb_res["bestIteration"] = int(booster.best_iteration)

        ts = xgb.Booster()
        ts.load_model(os.path.join(d, c["model"]))
        ts_pt = ts.predict(dte)
        ours_pt = np.asarray(c["oursTest"], dtype=np.float64)
        ts_res = summary(ours_pt, y[te], c["oursThreshold"])
        ts_res["maxAbsDiffVsXgboostScoring"] = float(np.max(np.abs(ts_pt.astype(np.float64) - ours_pt)))
        results["cases"].append({"seed": c["seed"], "xgboost": xgb_res, "oursBySklearn": ts_res})
    with open(os.path.join(d, "results.json"), "w") as fh:
        json.dump(results, fh)


if __name__ == "__main__":
    main(sys.argv[1])
