"""Peers for bench/training.bench.ts: LightGBM and scikit-learn's HistGradientBoostingClassifier on the
same train/test files as mlcycle's GBDT, single-threaded (the bench sets OMP_NUM_THREADS=1 as well).

  python3 bench/peers.py export-breast-cancer DIR   # sklearn's load_breast_cancer, split 70/30 (seed 0), as float32 files
  python3 bench/peers.py train DIR                  # one JSON line per peer: {"name", "auc", "seconds", "cpu_seconds", "maxrss_mb"}

DIR holds meta.json ({"nTrain", "nTest", "f"}) and Xtrain.f32, ytrain.f32, Xtest.f32, ytest.f32
(row-major little-endian float32, NaN = missing).
"""
import json
import os
import resource
import sys
import time

import numpy as np

# Same hyperparameters as the TypeScript side (see PARAMS in bench/training.bench.ts).
TREES, LEAVES, LR, BINS, MIN_BIN, MIN_LEAF = 100, 31, 0.1, 255, 3, 20
# Small training sets are timed as the median of 5 fits, as on the TypeScript side.
SMALL_ROWS, REPEATS_SMALL = 10_000, 5


def timed(fit, n):
    """The model, and the median wall and CPU seconds of its fits (CPU time: what the fit used, however busy the machine)."""
    times, cpus, model = [], [], None
    for _ in range(REPEATS_SMALL if n < SMALL_ROWS else 1):
        t, c = time.perf_counter(), time.process_time()
        model = fit()
        times.append(time.perf_counter() - t)
        cpus.append(time.process_time() - c)
    return model, sorted(times)[len(times) // 2], sorted(cpus)[len(cpus) // 2]


def load(d):
    meta = json.load(open(os.path.join(d, "meta.json")))
    f = meta["f"]
    rd = lambda name: np.fromfile(os.path.join(d, name), dtype="<f4")
    return (rd("Xtrain.f32").reshape(-1, f), rd("ytrain.f32"), rd("Xtest.f32").reshape(-1, f), rd("ytest.f32"))


def export_breast_cancer(d):
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split

    X, y = load_breast_cancer(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
    os.makedirs(d, exist_ok=True)
    for name, a in [("Xtrain", Xtr), ("ytrain", ytr), ("Xtest", Xte), ("ytest", yte)]:
        np.ascontiguousarray(a, dtype="<f4").tofile(os.path.join(d, name + ".f32"))
    json.dump({"nTrain": len(ytr), "nTest": len(yte), "f": X.shape[1]}, open(os.path.join(d, "meta.json"), "w"))


def train(d):
    from sklearn.metrics import roc_auc_score

    Xtr, ytr, Xte, yte = load(d)
    out = []
    try:
        import lightgbm as lgb

        params = dict(objective="binary", num_leaves=LEAVES, learning_rate=LR, max_bin=BINS, min_data_in_bin=MIN_BIN, min_data_in_leaf=MIN_LEAF,
                      min_sum_hessian_in_leaf=1e-3, lambda_l2=0.0, max_depth=-1, bagging_fraction=1.0, feature_fraction=1.0,
                      num_threads=1, deterministic=True, seed=42, verbose=-1)
        booster, secs, cpu = timed(lambda: lgb.train(params, lgb.Dataset(Xtr, label=ytr), num_boost_round=TREES), len(ytr))
        out.append({"name": f"LightGBM {lgb.__version__}", "auc": roc_auc_score(yte, booster.predict(Xte)), "seconds": secs, "cpu_seconds": cpu})
    except Exception as e:  # noqa: BLE001 - reported in the bench section
        out.append({"name": "LightGBM", "error": repr(e)})
    try:
        import sklearn
        from sklearn.ensemble import HistGradientBoostingClassifier

        clf = HistGradientBoostingClassifier(max_iter=TREES, max_leaf_nodes=LEAVES, learning_rate=LR, max_bins=BINS,
                                             min_samples_leaf=MIN_LEAF, l2_regularization=0.0, early_stopping=False, random_state=42)
        clf, secs, cpu = timed(lambda: clf.fit(Xtr, ytr), len(ytr))
        out.append({"name": f"scikit-learn {sklearn.__version__} HistGradientBoostingClassifier", "auc": roc_auc_score(yte, clf.predict_proba(Xte)[:, 1]), "seconds": secs, "cpu_seconds": cpu})
    except Exception as e:  # noqa: BLE001
        out.append({"name": "HistGradientBoostingClassifier", "error": repr(e)})
    # ru_maxrss is kB on Linux; one process ran both peers, so this is the larger of the two plus the data.
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for o in out:
        o["maxrss_mb"] = rss
        print(json.dumps(o))


if __name__ == "__main__":
    cmd, d = sys.argv[1], sys.argv[2]
    {"export-breast-cancer": export_breast_cancer, "train": train}[cmd](d)
