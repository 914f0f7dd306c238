"""Times xgboost tree_method=hist on data written by ml/bench/trainer-bench.ts.

Usage: bench.py <dir> (reads <dir>/bench.json, prints one JSON line). Timed: DMatrix construction
(which includes the quantile sketch) plus training, as the TS figure includes binning plus training.
"""
import json
import os
import sys
import time

import numpy as np
import xgboost as xgb

d = sys.argv[1]
with open(os.path.join(d, "bench.json")) as fh:
    c = json.load(fh)
f = c["f"]
x = np.fromfile(os.path.join(d, "x.f32"), dtype=np.float32).reshape(-1, f)
y = np.fromfile(os.path.join(d, "y.f32"), dtype=np.float32)
out = {"xgboost_version": xgb.__version__, "runs": []}
for nthread in c["nthreads"]:
    params = dict(c["xgb_params"], tree_method="hist", nthread=nthread)
    best = float("inf")
    for _ in range(c["repeats"]):
        t0 = time.perf_counter()
        dm = xgb.DMatrix(x, label=y, nthread=nthread)
        xgb.train(params, dm, num_boost_round=c["rounds"])
        best = min(best, time.perf_counter() - t0)
    out["runs"].append({"nthread": nthread, "seconds": best})
print(json.dumps(out))
