"""xgboost single-thread prediction speed on the golden logistic model, for ml/bench/evaluator-bench.ts.

Usage: /usr/bin/python3 bench.py OUT_DIR [ROWS]
Writes OUT_DIR/model.json and OUT_DIR/X.f32 (row-major float32) and prints one JSON line of timings.
"""
import json
import os
import sys
import time

import numpy as np
import xgboost as xgb

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from golden_common import N_FEATURES, labels, make_dataset, train  # noqa: E402

SEED = 20240611
REPEATS = 5


def best_of(fn):
    best = float("inf")
    for _ in range(REPEATS):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main():
    out = sys.argv[1]
    rows = int(sys.argv[2]) if len(sys.argv) > 2 else 10000
    os.makedirs(out, exist_ok=True)
    X_train, f_train = make_dataset(20000, SEED)
    X, _ = make_dataset(rows, SEED + 100)
    bst = train("binary:logistic", X_train, labels("binary:logistic", f_train, SEED), 300)
    bst.save_model(os.path.join(out, "model.json"))
    np.ascontiguousarray(X, dtype="<f4").tofile(os.path.join(out, "X.f32"))

    bst.set_param({"nthread": 1})
    inplace = best_of(lambda: bst.inplace_predict(X, predict_type="margin"))

    def via_dmatrix():
        bst.predict(xgb.DMatrix(X, missing=np.nan, nthread=1), output_margin=True)

    dmatrix = best_of(via_dmatrix)
    print(
        json.dumps(
            {
                "xgboost": xgb.__version__,
                "rows": rows,
                "features": N_FEATURES,
                "trees": 300,
                "inplaceSeconds": inplace,
                "dmatrixSeconds": dmatrix,
            }
        )
    )


if __name__ == "__main__":
    main()
