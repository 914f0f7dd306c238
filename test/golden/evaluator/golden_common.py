"""Shared dataset and training helpers for the evaluator golden tests and the speed bench.

Run with /usr/bin/python3 (Debian's python3-xgboost 1.7.4). Everything is seeded, so two runs write
the same data and, with nthread fixed, the same models.
"""
import numpy as np
import xgboost as xgb

N_FEATURES = 24
N_INT_FEATURES = 8  # the last 8 columns hold integers, so split thresholds land on integer values
NAN_RATE = 0.03


def make_dataset(n_rows, seed):
    """Return (X float32 n×24 with ~3% NaN, latent signal f float64 used to draw labels)."""
    rng = np.random.default_rng(seed)
    n_cont = N_FEATURES - N_INT_FEATURES
    cont = rng.normal(size=(n_rows, n_cont))
    cont[:, 3] = rng.uniform(-2, 2, size=n_rows)
    cont[:, 7] = rng.exponential(1.0, size=n_rows)
    ints = np.empty((n_rows, N_INT_FEATURES))
    ints[:, 0:3] = rng.integers(0, 6, size=(n_rows, 3))  # small codes 0..5
    ints[:, 3:6] = rng.poisson(3.0, size=(n_rows, 3))  # counts
    ints[:, 6:8] = rng.integers(-50, 50, size=(n_rows, 2))  # wider integer range
    X = np.hstack([cont, ints])
    c = np.nan_to_num(X)
    f = (
        0.8 * c[:, 0]
        - 0.6 * c[:, 1] * c[:, 2]
        + 0.5 * np.sin(2 * c[:, 3])
        + 0.3 * (c[:, 7] > 1.2)
        + 0.25 * (c[:, n_cont + 0] - 2.5)
        - 0.15 * np.abs(c[:, n_cont + 3] - 3)
        + 0.01 * c[:, n_cont + 6]
        + 0.2 * c[:, 4] * (c[:, n_cont + 1] >= 3)
    )
    mask = rng.random(X.shape) < NAN_RATE
    X[mask] = np.nan
    return X.astype(np.float32), f


def labels(objective, f, seed):
    rng = np.random.default_rng(seed + 1)
    if objective in ("binary:logistic", "binary:logitraw"):
        return (rng.random(f.shape) < 1 / (1 + np.exp(-f))).astype(np.float32)
    if objective == "reg:squarederror":
        return (f + rng.normal(scale=0.5, size=f.shape)).astype(np.float32)
    if objective == "count:poisson":
        return rng.poisson(np.exp(0.5 * f)).astype(np.float32)
    if objective == "survival:cox":
        t = rng.exponential(1.0 / np.exp(0.5 * f)) + 1e-3
        censored = rng.random(f.shape) < 0.2
        return np.where(censored, -t, t).astype(np.float32)
    raise ValueError(objective)


def train(objective, X, y, rounds, base_score=None, nthread=2):
    params = {
        "objective": objective,
        "tree_method": "hist",
        "max_depth": 6,
        "eta": 0.1,
        "nthread": nthread,
        "seed": 7,
    }
    if base_score is not None:
        params["base_score"] = base_score
    dtrain = xgb.DMatrix(X, label=y, missing=np.nan)
    return xgb.train(params, dtrain, num_boost_round=rounds)
