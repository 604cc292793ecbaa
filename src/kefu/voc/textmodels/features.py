"""The features every text model reads: character 1–3-grams of the normalized text plus jieba words
(kefu.core.text's segmentation, words of two characters or more, prefixed "w:"). A text is cut once
per analyze() call and every model's TF-IDF vectorizer reads the same feature lists."""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Sequence
from typing import Any

WORD_PREFIX = "w:"
_SPACES = re.compile(r"\s+")
_lock = threading.Lock()
_segmenter: Any = None


def _words() -> Any:
    global _segmenter
    if _segmenter is None:
        with _lock:
            if _segmenter is None:
                from kefu.core.text import Lexicon

                _segmenter = Lexicon()
    return _segmenter.words


def normalize(text: str) -> str:
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", text).lower()).strip()


def text_features(text: str, words: Any = None) -> list[str]:
    s = normalize(text)
    n = len(s)
    out = list(s)
    out += [s[i : i + 2] for i in range(n - 1)]
    out += [s[i : i + 3] for i in range(n - 2)]
    out += [WORD_PREFIX + w for w in (words or _words())(s) if len(w) > 1]
    return out


def featurize(texts: Sequence[str]) -> list[list[str]]:
    words = _words()
    return [text_features(t, words) for t in texts]


def passthrough(features: list[str]) -> list[str]:
    """The vectorizers' analyzer: the documents are feature lists already (module level: picklable)."""
    return features


_NOT_A_TERM = re.compile(r"[\W_]", re.UNICODE)


def display_term(feature: str) -> str:
    """How a feature is shown in explanations; "" (not shown) for n-grams with punctuation or spaces,
    which weigh in the model but mean nothing to a reader ("太慢," beside "太慢")."""
    term = feature[len(WORD_PREFIX) :] if feature.startswith(WORD_PREFIX) else feature
    return "" if _NOT_A_TERM.search(term) else term
