"""Reference for `pdm score`: trains two small xgboost models (named features, JSON; unnamed, UBJSON),
writes a CSV of rows for each, and xgboost's predictions, margins and contributions for them.

Usage: /usr/bin/python3 make_score.py OUT_DIR   (needs python3-xgboost; `npm run golden` writes the
committed copy in test/golden/fixtures/score, `npm run test:parity` a fresh one)
"""
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
