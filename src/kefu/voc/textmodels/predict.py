"""Running fitted models on a batch of texts: class probabilities and, for each text, the 3–5 terms
that weighed most for the predicted class (coefficient × the text's tf-idf value). Active versions
are loaded once per process and reloaded when another version becomes active (one cheap query)."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from kefu.voc.textmodels.features import display_term
from kefu.voc.textmodels.training import class_weights, loads

EXPLAIN_TERMS = 5


@dataclass
class Prediction:
    label: object  # the predicted class (polarity, or a node id)
    confidence: float
    proba: dict[str, float]
    terms: list[str]


class Batch:
    """A batch's feature lists counted once against the union vocabulary of the models that will read
    it (features no model knows are dropped); each model then takes its own columns with numpy, so the
    texts are walked in Python only once however many models run."""

    def __init__(self, features: list[list[str]], artifacts: list[dict]) -> None:
        self.n = len(features)
        self.union, self.columns = _union(artifacts)
        get = self.union.get
        indices: list[int] = []
        indptr = [0]
        for doc in features:
            indices.extend([i for i in map(get, doc) if i is not None])
            indptr.append(len(indices))
        self.counts = sp.csr_matrix(
            (
                np.ones(len(indices), dtype=np.float32),
                np.asarray(indices, dtype=np.int64),
                np.asarray(indptr, dtype=np.int64),
            ),
            shape=(self.n, len(self.union)),
        )
        self.counts.sum_duplicates()

    def matrix(self, artifact: dict) -> sp.csr_matrix:
        cols = self.columns[id(artifact)]  # union index → this model's column, −1: unknown to it
        known = np.flatnonzero(cols >= 0)
        n_features = len(artifact["vectorizer"].vocabulary_)
        proj = sp.csr_matrix(
            (np.ones(len(known), dtype=np.float32), (known, cols[known])), shape=(len(cols), n_features)
        )
        return artifact["vectorizer"]._tfidf.transform(self.counts @ proj).tocsr()


_unions: dict[tuple[int, ...], tuple[dict[str, int], dict[int, np.ndarray]]] = {}


def _union(artifacts: list[dict]) -> tuple[dict[str, int], dict[int, np.ndarray]]:
    key = tuple(sorted({id(a) for a in artifacts}))
    cached = _unions.get(key)
    if cached is not None:
        return cached
    union: dict[str, int] = {}
    for a in artifacts:
        for f in a["vectorizer"].vocabulary_:
            union.setdefault(f, len(union))
    columns: dict[int, np.ndarray] = {}
    for a in artifacts:
        cols = np.full(len(union), -1, dtype=np.int64)
        for f, c in a["vectorizer"].vocabulary_.items():
            cols[union[f]] = c
        columns[id(a)] = cols
    with _lock:
        if len(_unions) > 4:
            _unions.clear()
        _unions[key] = (union, columns)
    return union, columns


def _names(artifact: dict) -> list[str]:
    names = artifact.get("_display")
    if names is None:
        names = artifact["_display"] = [display_term(str(n)) for n in artifact["names"]]
    return names


def predict(artifact: dict, features: list[list[str]] | Batch, *, explain: bool = True) -> list[Prediction]:
    batch = features if isinstance(features, Batch) else Batch(features, [artifact])
    if not batch.n:
        return []
    x = batch.matrix(artifact)
    x.sort_indices()
    clf = artifact["classifier"]
    proba = clf.predict_proba(x)
    best = proba.argmax(axis=1)
    classes = clf.classes_.tolist()
    terms_of: list[list[str]] = [[] for _ in range(batch.n)]
    if explain and x.nnz:
        weights = class_weights(artifact)
        names = _names(artifact)
        counts = np.diff(x.indptr)
        rows = np.repeat(np.arange(batch.n), counts)
        contrib = x.data * weights[best[rows], x.indices]
        positive = np.flatnonzero(contrib > 0)
        p_rows, p_val = rows[positive], contrib[positive]
        # per row, the largest contribution first (one float key: row, then −contribution)
        order = positive[
            np.argsort(p_rows * (2.0 * float(p_val.max(initial=1.0)) + 1.0) - p_val, kind="stable")
        ]
        starts = np.searchsorted(rows[order], np.arange(batch.n))
        rank = np.arange(len(order)) - np.repeat(starts, np.diff(np.append(starts, len(order))))
        keep = order[rank < EXPLAIN_TERMS * 2]
        for r, col in zip(rows[keep].tolist(), x.indices[keep].tolist(), strict=True):
            seen = terms_of[r]
            if len(seen) < EXPLAIN_TERMS:
                term = names[col]
                if term and not any(term in t for t in seen):
                    seen.append(term)
    keys = [str(c) for c in classes]
    rows_p = proba.tolist()
    return [
        Prediction(
            label=classes[b],
            confidence=round(row[b], 4),
            proba=dict(zip(keys, row, strict=True)),
            terms=terms,
        )
        for b, row, terms in zip(best.tolist(), rows_p, terms_of, strict=True)
    ]


# --- the active versions, per process ------------------------------------------------------------
_lock = threading.Lock()
_loaded: dict[int, dict] = {}  # TextModel id → artifact


def active_ids() -> dict[str, int]:
    from kefu.voc.choices import ModelStatus
    from kefu.voc.models import TextModel

    return dict(TextModel.objects.filter(status=ModelStatus.ACTIVE).values_list("kind", "id"))


def load(model_id: int) -> dict | None:
    """The artifact of one version (cached; versions never change once trained)."""
    artifact = _loaded.get(model_id)
    if artifact is not None:
        return artifact
    from kefu.voc.models import TextModel

    data = TextModel.objects.filter(pk=model_id).values_list("artifact", flat=True).first()
    if not data:
        return None
    artifact = loads(data)
    with _lock:
        _loaded[model_id] = artifact
        # keep the cache small: the active versions and the one just loaded
        if len(_loaded) > 6:
            keep = set(active_ids().values()) | {model_id}
            for key in [k for k in _loaded if k not in keep]:
                _loaded.pop(key, None)
    return artifact


def clear_cache() -> None:
    _loaded.clear()
    _unions.clear()
