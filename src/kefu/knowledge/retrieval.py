"""Which published article answers a question, and how sure kefu is (the answer bot, agent assist).

`rank_articles(question, audience=..., limit=...)` scores each candidate article with four signals:

  lexical   the full-text score of kefu.knowledge.search.search() (BM25-style over jieba words and
            character bigrams of title, question variants and body) divided by the best score in the
            same list (0–1; 0 for candidates the search did not return);
  coverage  the IDF-weighted share of the question's search terms found among the article's index
            terms (0–1; IDF over the published articles' index terms): absolute, where `lexical` is
            only relative — a question about something no article mentions covers little;
  title     cosine of the character 1–3-gram TF-IDF vectors of the question and the title;
  variant   the same cosine with the article's closest question variant (相似问法), counted only above
            VARIANT_FLOOR (rescaled to 0–1): a question (nearly) identical to one an editor confirmed.
            Variants added in bot tuning count from the next question on: the n-gram cache notices
            the change, and the search index (which also holds variants) follows after commit.

Candidates: the search's top CANDIDATES hits, plus the articles of the titles or variants sharing the
most rare character n-grams with the question (NGRAM_CANDIDATES), so a question worded unlike every
article's text still reaches the article whose variant it resembles.

    score      = Σ WEIGHTS[s] · s                                                   (the ranking)
    confidence = 1 / (1 + exp(-(A·score + B·margin + C·coverage + E·ln(articles) + D)))  (CALIBRATION)

`margin` is the lead over the best other candidate, at most MAX_MARGIN and at most the article's
score without the relative lexical part (a lone weak match is not "far ahead"); `coverage` the
article's; `articles` the number of published articles the question is matched against (clamped to
20–10,000): the same evidence is worth less among more articles. A, B, C ≥ 0, E and D were fitted by
logistic regression (`bench/kb_retrieval.py --fit`, see BENCHMARKS.md) to "the first article is
right" on real smaller help centers (20 to 10,000 articles) loaded from a public Chinese FAQ corpus,
where half of the questions asked have no article. On the held-out half, answers given with a
confidence of 0.5–0.6 were right 50 % of the time, 0.7–0.8: 70 %, 0.9–1: 96 %. It is a calibration
for that corpus: editors move the bot's threshold (BotSettings) and see the effect on the tuning list.

The n-gram vectors of all published titles and variants and the IDF of the index terms live in a
per-process cache, rebuilt when an article or a variant changes (two aggregate queries per call tell):
pure Python, about 0.2 s per 1,000 articles with their variants (5 s for 27,000 with 21,000
variants), paid by the first question after a change."""

from __future__ import annotations

import gc
import math
import re
import threading
from array import array
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Max

from kefu.core.text import BIGRAM_PREFIX, search_normalize
from kefu.knowledge import search
from kefu.knowledge.choices import ArticleStatus, Audience, DocKind
from kefu.knowledge.models import Article, ArticleVariant, SearchEntry

CANDIDATES = 50  # lexical hits considered
NGRAM_CANDIDATES = 10  # titles/variants added from the n-gram index
MAX_QUESTION = 500
GRAM_SIZES = (1, 2, 3)
# a gram in more than this share of titles and variants is not used to find candidates (it still
# counts in the cosine)
CANDIDATE_MAX_DF = 0.05

MAX_MARGIN = 1.0  # a lead larger than this counts as this (small knowledge bases have few candidates)
# a variant counts in the score only when the question is (nearly) the same: its cosine rescaled from
# VARIANT_FLOOR..1 to 0..1 (on the benchmark, looser variant similarity ranked worse, see BENCHMARKS.md)
VARIANT_FLOOR = 0.8
WEIGHTS: dict[str, float] = {"lexical": 1.0, "coverage": 1.0, "title": 1.0, "variant": 2.0}
# confidence = sigmoid(A·score + B·margin + C·coverage + E·ln(articles) + D), articles: the published
# articles the question is matched against, clamped to the simulated sizes the constants were fitted on
CALIBRATION_SIZES = (20, 100, 500, 2000, 10000)
CALIBRATION: dict[str, float] = {
    "score": 1.058,
    "margin": 2.29,
    "coverage": 1.38,
    "log_articles": -0.44,
    "bias": -1.783,
}

_DROP = re.compile(r"[\W_]+", re.UNICODE)


@dataclass(frozen=True)
class Ranked:
    article_id: int
    score: float
    confidence: float  # 0–1, see the module docstring


@dataclass
class Candidate:
    """One candidate article with its signals (the benchmark reads these to fit the constants)."""

    article_id: int
    lexical: float = 0.0
    coverage: float = 0.0
    title: float = 0.0
    variant: float = 0.0
    score: float = 0.0

    def combine(self, weights: dict[str, float]) -> float:
        return (
            weights["lexical"] * self.lexical
            + weights["coverage"] * self.coverage
            + weights["title"] * self.title
            + weights["variant"] * max(0.0, (self.variant - VARIANT_FLOOR) / (1.0 - VARIANT_FLOOR))
        )


# --- character n-grams ------------------------------------------------------------------------------


def normalize(text: str) -> str:
    """NFKC, lowercase, letters and digits only (spaces and punctuation carry no meaning here)."""
    return _DROP.sub("", search_normalize(text or ""))


def grams(text: str) -> Counter[str]:
    """Character 1-, 2- and 3-grams of the normalized text with their counts."""
    s = normalize(text)
    return Counter([s[i : i + n] for n in GRAM_SIZES for i in range(len(s) - n + 1)])


@dataclass
class _Index:
    version: tuple[Any, ...]
    gram_ids: dict[str, int]
    idf: array  # per gram id
    unseen_idf: float
    # per text (a title or a variant): its article, whether it is a title, and its unit vector
    text_article: array
    text_is_title: bytearray
    text_ids: list[array]
    text_weights: list[array]
    article_texts: dict[int, list[int]]
    public: set[int]  # published public articles (the others in the index are internal)
    postings: dict[int, array]  # rare 2-/3-gram → the texts that have it
    term_df: dict[str, int]  # search term → number of published articles whose index terms have it
    articles: int

    def term_idf(self, term: str) -> float:
        return math.log((self.articles + 1) / (self.term_df.get(term, 0) + 0.5))

    def vector(self, text: str) -> tuple[dict[int, float], float]:
        """The question's TF-IDF weights by gram id (grams no text has are left out) and the norm
        over all its grams (unknown grams count with the highest IDF: a question full of words no
        article has is not close to any)."""
        weights: dict[int, float] = {}
        norm2 = 0.0
        for g, tf in grams(text).items():
            gid = self.gram_ids.get(g)
            w = (1.0 + math.log(tf)) * (self.idf[gid] if gid is not None else self.unseen_idf)
            norm2 += w * w
            if gid is not None:
                weights[gid] = w
        return weights, math.sqrt(norm2)

    def cosine(self, qv: dict[int, float], qnorm: float, text: int) -> float:
        if not qnorm:
            return 0.0
        get = qv.get
        dot = sum(get(g, 0.0) * w for g, w in zip(self.text_ids[text], self.text_weights[text], strict=True))
        return dot / qnorm

    def nearest_texts(self, qv: dict[int, float], k: int) -> list[int]:
        """The k texts sharing the most rare-gram weight (the question's) with it: a cheap first cut,
        ranked by the exact cosine afterwards."""
        acc: dict[int, float] = defaultdict(float)
        for gid, qw in qv.items():
            for t in self.postings.get(gid, ()):
                acc[t] += qw
        return sorted(acc, key=acc.__getitem__, reverse=True)[:k]


def _idf(df: int, n: int) -> float:
    return math.log((1 + n) / (1 + df)) + 1.0


def _version() -> tuple[Any, ...]:
    a = Article.objects.aggregate(n=Count("id"), t=Max("updated_at"), m=Max("id"))
    v = ArticleVariant.objects.aggregate(n=Count("id"), m=Max("id"))
    return (a["n"], a["t"], a["m"], v["n"], v["m"])


def _build(version: tuple[Any, ...]) -> _Index:
    articles = list(
        Article.objects.filter(status=ArticleStatus.PUBLISHED).values_list("id", "title", "audience")
    )
    live = {pk for pk, _t, _a in articles}
    texts: list[tuple[int, bool, Counter[str]]] = [(pk, True, grams(title)) for pk, title, _a in articles]
    texts += [
        (article_id, False, grams(text))
        for article_id, text in ArticleVariant.objects.filter(article_id__in=live).values_list(
            "article_id", "text"
        )
    ]
    df: Counter[str] = Counter()
    for _pk, _is_title, counts in texts:
        df.update(counts.keys())
    n = len(texts)
    gram_ids = {g: i for i, g in enumerate(df)}
    idf = [_idf(d, n) for d in df.values()]
    max_df = max(20, int(CANDIDATE_MAX_DF * n))
    rare = [len(g) > 1 and d <= max_df for g, d in df.items()]
    log_tf = [0.0] + [1.0 + math.log(i) for i in range(1, 64)]
    text_ids: list[array] = []
    text_weights: list[array] = []
    article_texts: dict[int, list[int]] = defaultdict(list)
    postings: dict[int, list[int]] = defaultdict(list)
    for t, (pk, _is_title, counts) in enumerate(texts):
        ids = [gram_ids[g] for g in counts]
        ws = [
            (log_tf[tf] if tf < 64 else 1.0 + math.log(tf)) * idf[gid]
            for gid, tf in zip(ids, counts.values(), strict=True)
        ]
        inv = 1.0 / (math.sqrt(sum(w * w for w in ws)) or 1.0)
        text_ids.append(array("i", ids))
        text_weights.append(array("d", [w * inv for w in ws]))
        article_texts[pk].append(t)
        for gid in ids:
            if rare[gid]:
                postings[gid].append(t)
    term_df: Counter[str] = Counter()
    entries = 0
    for tokens in (
        SearchEntry.objects.filter(kind=DocKind.ARTICLE, is_live=True)
        .values_list("tokens", flat=True)
        .iterator(chunk_size=2000)
    ):
        entries += 1
        term_df.update(set(tokens.split()))
    return _Index(
        version=version,
        gram_ids=gram_ids,
        idf=array("d", idf),
        unseen_idf=_idf(0, n),
        text_article=array("q", [pk for pk, _i, _c in texts]),
        text_is_title=bytearray(1 if is_title else 0 for _pk, is_title, _c in texts),
        text_ids=text_ids,
        text_weights=text_weights,
        article_texts=dict(article_texts),
        public={pk for pk, _t, audience in articles if audience == Audience.PUBLIC},
        postings={gid: array("i", ts) for gid, ts in postings.items()},
        term_df=dict(term_df),
        articles=max(entries, len(articles)),
    )


class _Cache:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.index: _Index | None = None


_cache = _Cache()


def _index() -> _Index:
    version = _version()
    current = _cache.index
    if current is not None and current.version == version:
        return current
    with _cache.lock:
        if _cache.index is None or _cache.index.version != version:
            collecting = gc.isenabled()
            gc.disable()  # millions of small objects: the cyclic collector would add ~25 %
            try:
                _cache.index = _build(version)
            finally:
                if collecting:
                    gc.enable()
        return _cache.index


def clear_cache() -> None:
    _cache.index = None


# --- ranking ---------------------------------------------------------------------------------------------


def _coverage(terms: Sequence[str], idf: Sequence[float], tokens: str) -> float:
    """The IDF-weighted share of the question's terms among the article's index terms. A character
    bigram term (zz退款) also counts as present when the word is (the index leaves such bigrams out)."""
    total = sum(idf)
    if not total:
        return 0.0
    padded = f" {tokens} "
    found = 0.0
    for t, w in zip(terms, idf, strict=True):
        if f" {t} " in padded or (t.startswith(BIGRAM_PREFIX) and f" {t[len(BIGRAM_PREFIX) :]} " in padded):
            found += w
    return found / total


def candidates(
    question: str, *, audience: str = Audience.PUBLIC, pool: int = CANDIDATES, use_variants: bool = True
) -> list[Candidate]:
    """Every candidate article for the question with its signals, unordered (see rank_articles).
    use_variants=False leaves the variant signal and the n-gram pool out (for the benchmark)."""
    question = (question or "")[:MAX_QUESTION]
    public_only = audience != Audience.INTERNAL
    hits = search.search(
        question, kinds=(DocKind.ARTICLE,), audience=Audience.PUBLIC if public_only else None, limit=pool
    )
    idx = _index()
    by_id: dict[int, Candidate] = {}
    top = max((h.score for h in hits), default=0.0)
    for h in hits:
        if h.object_id in idx.article_texts:  # published (the index may lag a moment behind)
            by_id[h.object_id] = Candidate(h.object_id, lexical=h.score / top if top > 0 else 0.0)
    qv, qnorm = idx.vector(question)
    if use_variants:
        added = 0
        for t in idx.nearest_texts(qv, NGRAM_CANDIDATES * 3):
            pk = idx.text_article[t]
            if (public_only and pk not in idx.public) or pk in by_id:
                continue
            by_id[pk] = Candidate(pk)
            added += 1
            if added >= NGRAM_CANDIDATES:
                break
    if not by_id:
        return []
    for c in by_id.values():
        for t in idx.article_texts.get(c.article_id, ()):
            if idx.text_is_title[t]:
                c.title = max(c.title, idx.cosine(qv, qnorm, t))
            elif use_variants:
                c.variant = max(c.variant, idx.cosine(qv, qnorm, t))
    terms = search.tokenize(question, query=True)
    idf = [idx.term_idf(t) for t in terms]
    for pk, tokens in SearchEntry.objects.filter(kind=DocKind.ARTICLE, object_id__in=list(by_id)).values_list(
        "object_id", "tokens"
    ):
        by_id[pk].coverage = _coverage(terms, idf, tokens)
    return list(by_id.values())


def confidence(
    score: float, margin: float, coverage: float, articles: int, calibration: dict[str, float] | None = None
) -> float:
    c = calibration or CALIBRATION
    size = min(max(articles, CALIBRATION_SIZES[0]), CALIBRATION_SIZES[-1])
    z = (
        c["score"] * score
        + c["margin"] * margin
        + c["coverage"] * coverage
        + c["log_articles"] * math.log(size)
        + c["bias"]
    )
    if z < -40:
        return 0.0
    return 1.0 / (1.0 + math.exp(-z))


def order(
    found: Iterable[Candidate],
    *,
    articles: int,
    limit: int = 5,
    weights: dict[str, float] | None = None,
    calibration: dict[str, float] | None = None,
) -> list[Ranked]:
    """Score and sort candidates (among `articles` published ones); each one's confidence takes its
    lead over the best other candidate (behind it: negative)."""
    w = weights or WEIGHTS
    scored = sorted(found, key=lambda c: (-c.combine(w), c.article_id))
    for c in scored:
        c.score = c.combine(w)
    out = []
    for i, c in enumerate(scored[:limit]):
        other = scored[1].score if i == 0 and len(scored) > 1 else scored[0].score if i else None
        m = lead(c, other, w)
        out.append(
            Ranked(
                c.article_id,
                round(c.score, 4),
                round(confidence(c.score, m, c.coverage, articles, calibration), 4),
            )
        )
    return out


def lead(c: Candidate, other: float | None, weights: dict[str, float] | None = None) -> float:
    """How far the candidate is ahead of the best other one (behind it: negative), at most MAX_MARGIN
    and at most its absolute evidence (its score without the relative lexical part): a lone weak
    match — the only article sharing a word with an off-topic question — is not far ahead."""
    w = weights or WEIGHTS
    absolute = c.score - w["lexical"] * c.lexical
    ahead = MAX_MARGIN if other is None else c.score - other
    return min(MAX_MARGIN, absolute, ahead)


def rank_articles(question: str, *, audience: str = Audience.PUBLIC, limit: int = 5) -> list[Ranked]:
    """The published articles most likely to answer `question`, best first, each with a score and a
    confidence (0–1). audience "public" (the bot, the help center): public articles only;
    "internal" (agents): every published article."""
    if not normalize(question):
        return []
    found = candidates(question, audience=audience)
    return order(found, articles=pool_size(audience), limit=max(1, min(int(limit), 50)))


def pool_size(audience: str = Audience.PUBLIC) -> int:
    """How many published articles a question of this audience is matched against."""
    idx = _index()
    return len(idx.public) if audience != Audience.INTERNAL else len(idx.article_texts)


# --- similarity of two questions (bot tuning groups) --------------------------------------------------------


@dataclass
class QuestionVectors:
    """Unit TF-IDF vectors of some questions, with the IDF of the current titles and variants."""

    vectors: list[dict[str, float]] = field(default_factory=list)

    def similarity(self, i: int, j: int) -> float:
        a, b = self.vectors[i], self.vectors[j]
        if len(a) > len(b):
            a, b = b, a
        return sum(w * b.get(g, 0.0) for g, w in a.items())


def question_vectors(questions: Sequence[str]) -> QuestionVectors:
    idx = _index()
    out = QuestionVectors()
    for q in questions:
        v: dict[str, float] = {}
        for g, tf in grams(q).items():
            gid = idx.gram_ids.get(g)
            v[g] = (1.0 + math.log(tf)) * (idx.idf[gid] if gid is not None else idx.unseen_idf)
        norm = math.sqrt(sum(w * w for w in v.values())) or 1.0
        out.vectors.append({g: w / norm for g, w in v.items()})
    return out
