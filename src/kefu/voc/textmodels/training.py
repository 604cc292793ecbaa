"""Fitting one text model: TF-IDF over the shared features (char 1–3-grams + jieba words) → logistic
regression with class probabilities; C chosen by 3-fold cross-validation on the training part when
there are enough examples. The artifact is a plain dict (vectorizer, classifier, feature names)
stored as joblib bytes in TextModel.artifact."""

from __future__ import annotations

import io
import zlib
from collections import Counter
from collections.abc import Sequence
from typing import Any

import joblib
import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score

from kefu.voc.textmodels.features import display_term, featurize, passthrough

HELD_OUT_BUCKETS = 5  # one bucket of five: a 20 % held-out slice
C_GRID = (3.0, 10.0, 30.0)
DEFAULT_C = 10.0
CV_MIN_EXAMPLES = 300  # fewer: no cross-validation, DEFAULT_C
TOP_TERMS = 10
ARTIFACT_FORMAT = 1


def is_held_out(key: str) -> bool:
    """The deterministic held-out slice: the same keys ("item:12", "review:5") for every version."""
    return zlib.crc32(key.encode("utf-8")) % HELD_OUT_BUCKETS == 0


def _vectorizer() -> TfidfVectorizer:
    return TfidfVectorizer(analyzer=passthrough, sublinear_tf=True, dtype=np.float32)


def _choose_c(x: Any, y: np.ndarray) -> float:
    counts = Counter(y.tolist())
    folds = min(3, min(counts.values()))
    if len(y) < CV_MIN_EXAMPLES or folds < 2:
        return DEFAULT_C
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=0)
    scores = {c: cross_val_score(_classifier(c), x, y, cv=cv).mean() for c in C_GRID}
    return max(C_GRID, key=lambda c: (scores[c], -abs(c - DEFAULT_C)))


def _classifier(c: float) -> LogisticRegression:
    return LogisticRegression(C=c, max_iter=2000)


def fit(texts: Sequence[str], labels: Sequence[Any], *, features: list[list[str]] | None = None) -> dict:
    """Fit a model on `texts` → `labels` (≥ 2 classes). Returns the artifact dict."""
    y = np.asarray(list(labels))
    if len(set(y.tolist())) < 2:
        raise ValueError("at least two classes are needed")
    vec = _vectorizer()
    x = vec.fit_transform(features if features is not None else featurize(texts))
    c = _choose_c(x, y)
    clf = _classifier(c).fit(x, y)
    return {
        "format": ARTIFACT_FORMAT,
        "vectorizer": vec,
        "classifier": clf,
        "names": vec.get_feature_names_out(),
        "c": c,
    }


def class_weights(artifact: dict) -> np.ndarray:
    """coef per class as a (n_classes, n_features) array (binary models have one row: class 1)."""
    coef = artifact["classifier"].coef_
    if coef.shape[0] == 1:
        return np.vstack([-coef[0], coef[0]])
    return coef


def top_terms(artifact: dict, k: int = TOP_TERMS) -> dict[str, list[str]]:
    """The terms that weigh most for each class (the model's own explanation)."""
    weights = class_weights(artifact)
    names = artifact["names"]
    out: dict[str, list[str]] = {}
    for row, cls in enumerate(artifact["classifier"].classes_):
        order = np.argsort(-weights[row])[: k * 3]
        terms = [display_term(str(names[i])) for i in order if weights[row, i] > 0]
        out[str(cls)] = [t for t in dict.fromkeys(terms) if t][:k]
    return out


def dumps(artifact: dict) -> bytes:
    buf = io.BytesIO()
    joblib.dump(artifact, buf, compress=3)
    return buf.getvalue()


def loads(data: bytes | memoryview) -> dict:
    return joblib.load(io.BytesIO(bytes(data)))
