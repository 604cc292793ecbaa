"""Benchmark kefu's Chinese sentiment models on the public development data (../shared/data).

    .venv/bin/python bench/voc_text.py [--data /work/shared/data] [--seed 42]
        [--snownlp-python /tmp/snowvenv/bin/python]

For waimai_10k.csv and ChnSentiCorp_htl_all.csv, the same seeded 80/20 split for every method:

(a) a plain supervised baseline: TF-IDF over char 1–3-grams + LinearSVC (scikit-learn defaults);
(b) kefu's sentiment trainer (kefu.voc.textmodels.training.fit, the product's code) fitted on the train
    part, predicted through kefu.voc.textmodels.analyze() exactly as the product runs it;
(c) kefu's out-of-the-box lexicon (analyze() with no model; binary decision: sentiment > 0 → positive);
(d) snownlp (sentiments ≥ 0.5 → positive), run by another interpreter (--snownlp-python, a venv with
    snownlp installed: `python3 -m venv /tmp/snowvenv && /tmp/snowvenv/bin/pip install snownlp`);
    snownlp is no dependency of kefu. Skipped with a message when that interpreter is absent.

Accuracy and macro-F1 on the test part; texts/s on one core (the process is pinned to one CPU and
BLAS to one thread): analyze() of the test texts (jieba's cut cache cleared before each timed run;
best of three), the baseline's vectorize+predict as the ceiling to compare with, and analyze() with
all three models in use (sentiment + a cause and a touchpoint model fitted on the same texts with
synthetic classes, only to measure speed) on reviews cut to exactly 50 characters.

No model trained here is kept: the product learns from each organization's own labels only.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kefu.config.settings")

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402
from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.metrics import accuracy_score, f1_score  # noqa: E402
from sklearn.svm import LinearSVC  # noqa: E402

from kefu.voc import textmodels  # noqa: E402
from kefu.voc.textmodels import features, training  # noqa: E402

FILES = ("waimai_10k.csv", "ChnSentiCorp_htl_all.csv")
LABELS = {"1": "positive", "0": "negative"}

SNOW_SCRIPT = r"""
import json, sys, time
from snownlp import SnowNLP
texts = json.load(sys.stdin)
SnowNLP("预热").sentiments
t = time.perf_counter()
scores = [SnowNLP(x).sentiments for x in texts]
print(json.dumps({"scores": scores, "seconds": time.perf_counter() - t}))
"""


def load(path: Path) -> list[tuple[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return [(r["review"].strip(), LABELS[r["label"]]) for r in csv.DictReader(f) if r["review"].strip()]


def split(rows: list[tuple[str, str]], seed: int) -> tuple[list, list]:
    rows = rows[:]
    random.Random(seed).shuffle(rows)
    k = int(len(rows) * 0.8)
    return rows[:k], rows[k:]


def cold() -> None:
    """Forget jieba's cut cache, so a timed run cuts every text."""
    seg = features._segmenter
    if seg is not None:
        seg._cut_cache.clear()


def rate(fn, n: int, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        cold()
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return n / best


def scores(y_true, y_pred) -> tuple[float, float]:
    return accuracy_score(y_true, y_pred), f1_score(y_true, y_pred, average="macro")


def snownlp(python: str, texts: list[str]) -> tuple[list[str], float] | str:
    if not python or not Path(python).exists():
        return f"skipped: no interpreter at {python!r} (see --snownlp-python)"
    env = {**os.environ, "PYTHONPATH": ""}
    proc = subprocess.run(
        ["taskset", "-c", str(sorted(os.sched_getaffinity(0))[0]), python, "-c", SNOW_SCRIPT],
        input=json.dumps(texts, ensure_ascii=False),
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if proc.returncode:
        return "skipped: snownlp failed: " + proc.stderr.strip().splitlines()[-1]
    out = json.loads(proc.stdout)
    return ["positive" if s >= 0.5 else "negative" for s in out["scores"]], len(texts) / out["seconds"]


def run(path: Path, seed: int, snow_python: str) -> list[tuple[str, float, float, float | None, str]]:
    train, test = split(load(path), seed)
    tr_x, tr_y = [t for t, _ in train], [y for _, y in train]
    te_x, te_y = [t for t, _ in test], [y for _, y in test]
    rows = []
    textmodels.analyze(["预热一下分词词典"], models={"sentiment": None}, kinds=["sentiment"])
    features.featurize(["预热一下分词词典"])

    # (a) the plain supervised baseline
    vec = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True)
    svm = LinearSVC().fit(vec.fit_transform(tr_x), tr_y)
    pred = svm.predict(vec.transform(te_x))
    speed = rate(lambda: svm.predict(vec.transform(te_x)), len(te_x))
    rows.append(("(a) char 1–3-gram TF-IDF + LinearSVC", *scores(te_y, pred), speed, ""))

    # (b) kefu's trainer and analyze()
    print(f"{path.name}: (a) done, fitting kefu's model", file=sys.stderr, flush=True)
    t = time.perf_counter()
    artifact = training.fit(tr_x, tr_y)
    fit_s = time.perf_counter() - t
    models = {"sentiment": (None, artifact)}
    res = textmodels.analyze(te_x, models=models, kinds=["sentiment"])
    speed = rate(lambda: textmodels.analyze(te_x, models=models, kinds=["sentiment"]), len(te_x))
    note = f"fit {fit_s:.1f} s, C={artifact['c']:g}"
    rows.append(
        ("(b) kefu sentiment model, analyze()", *scores(te_y, [r.polarity for r in res]), speed, note)
    )

    # (c) kefu's lexicon
    lex = {"sentiment": None}
    res = textmodels.analyze(te_x, models=lex, kinds=["sentiment"])
    neutral = sum(1 for r in res if r.sentiment == 0) / len(res)
    pred = ["positive" if r.sentiment > 0 else "negative" for r in res]
    speed = rate(lambda: textmodels.analyze(te_x, models=lex, kinds=["sentiment"]), len(te_x))
    rows.append(
        ("(c) kefu lexicon (out of the box)", *scores(te_y, pred), speed, f"{neutral:.0%} no sentiment word")
    )

    # (d) snownlp, in its own interpreter
    out = snownlp(snow_python, te_x)
    if isinstance(out, str):
        rows.append(("(d) snownlp", float("nan"), float("nan"), None, out))
    else:
        rows.append(("(d) snownlp (≥ 0.5 positive)", *scores(te_y, out[0]), out[1], ""))

    # all three models in use, 50-character reviews
    rng = np.random.default_rng(seed)
    sub = tr_x[:3000]  # speed only: a smaller fit, C fixed (no cross-validation)
    cv_min, training.CV_MIN_EXAMPLES = training.CV_MIN_EXAMPLES, 10**9
    cause = training.fit(sub, [f"c{int(i)}" for i in rng.integers(0, 12, len(sub))])
    touch = training.fit(sub, [f"t{int(i)}" for i in rng.integers(0, 15, len(sub))])
    training.CV_MIN_EXAMPLES = cv_min
    for art in (cause, touch):  # node ids are integers in the product
        art["classifier"].classes_ = np.arange(len(art["classifier"].classes_))
    three = {"sentiment": (None, artifact), "cause": (None, cause), "touchpoint": (None, touch)}
    fifty = [t[:50] for t in (tr_x + te_x) if len(t) >= 50][:3000]
    if fifty:
        speed = rate(lambda: textmodels.analyze(fifty, models=three), len(fifty))
        base = rate(lambda: svm.predict(vec.transform(fifty)), len(fifty))
        rows.append(("analyze(), all three models, 50-char texts", float("nan"), float("nan"), speed, ""))
        rows.append(("(a) baseline predict, same 50-char texts", float("nan"), float("nan"), base, ""))
    return rows, len(train), len(test), sum(len(t) for t in te_x) / len(te_x), len(fifty)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", default="/work/shared/data")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--snownlp-python", default="/tmp/snowvenv/bin/python")
    args = p.parse_args()
    try:
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    except (AttributeError, OSError):
        print("note: could not pin to one CPU")
    for name in FILES:
        rows, n_train, n_test, mean_len, n50 = run(Path(args.data) / name, args.seed, args.snownlp_python)
        print(
            f"\n### {name}: {n_train} train / {n_test} test (seed {args.seed}), "
            f"test texts {mean_len:.0f} chars on average; {n50} texts of 50 chars\n"
        )
        print("| method | accuracy | macro-F1 | texts/s (1 core) | note |")
        print("|---|---:|---:|---:|---|")
        for label, acc, f1, speed, note in rows:
            a = "" if acc != acc else f"{acc:.4f}"
            f = "" if f1 != f1 else f"{f1:.4f}"
            s = "" if speed is None else f"{speed:,.0f}"
            print(f"| {label} | {a} | {f} | {s} | {note} |", flush=True)


if __name__ == "__main__":
    main()
