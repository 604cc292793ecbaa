"""Knowledge retrieval quality: does the right article come first for a customer's question?

Corpus: the Chinese InsuranceQA corpus of the PyPI package insuranceqa-data==1.2 (see
../shared/data/README.md). It is NEVER a project dependency: install it into a venv of its own and
export it to JSON first (this file's --export mode runs with that venv's Python and imports no Django):

    python3 -m venv /tmp/iqvenv && /tmp/iqvenv/bin/pip install insuranceqa-data==1.2
    /tmp/iqvenv/bin/python bench/kb_retrieval.py --export /tmp/insuranceqa-zh.json
    .venv/bin/python bench/kb_retrieval.py --data /tmp/insuranceqa-zh.json

Protocol (a dedicated SQLite database in a fresh temporary KEFU_DATA_DIR, migrated first):
  * every answer (27,413) is a published public article: body = the answer; title = the answer's first
    sentence (up to 60 characters) — for all articles alike, so a title never leaks a question;
  * the train split's questions are question variants of their answers (what editors' confirmations
    in bot tuning produce), except the held-out paraphrases below;
  * "valid": the valid split's questions (2,000) are asked; the test split is never read. A hit is any
    of the question's answers;
  * "paraphrase": for each answer with two or more different train questions, one of them (the last
    in id order) is held out of the variants and asked: what a confirmed variant does for a
    differently worded question about the same thing;
  * systems: plain BM25 (k1 1.2, b 0.75) over jieba tokens of the bodies, implemented here; kefu's
    search() alone (kinds article, audience public); kefu's rank_articles(); then the variants are
    deleted, the articles reindexed, and search() and rank_articles() run again ("no variants").
Metrics: top-1 and top-5 accuracy, MRR over the top 5, ms per question (mean and p95, one thread).

--fit also (1) reports the best ranking weights of a small grid beside the product's
(kefu.knowledge.retrieval.WEIGHTS), from every candidate's signals on the full corpus, and (2) fits
the confidence calibration (retrieval.CALIBRATION): real smaller help centers (CALIBRATION_RUNS:
1 × 10,000, 1 × 2,000, 4 × 500, 12 × 100 and 30 × 20 random articles with their variants, each loaded
alone and indexed) where half of the questions asked have their right article and half do not;
logistic regression on half of them, reliability reported on the other half. --calibration-only does
(2) alone; --dump keeps the signals, --fit-from refits from them without a database.

    .venv/bin/python bench/kb_retrieval.py --data /tmp/insuranceqa-zh.json --fit --dump /tmp/kb.json
    .venv/bin/python bench/kb_retrieval.py --data /tmp/insuranceqa-zh.json --calibration-only
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SENTENCE = re.compile(r"[^。！？!?；;\n]+[。！？!?；;]?")


def export(path: str) -> None:
    """Run with the venv that has insuranceqa-data==1.2: write the answers, train and valid splits."""
    import insuranceqa_data as iq  # only in the benchmark's own venv

    out = {
        "answers": {k: v["zh"] for k, v in iq.load_answers().items()},
        "train": {k: {"zh": v["zh"], "answers": v["answers"]} for k, v in iq.load_train().items()},
        "valid": {k: {"zh": v["zh"], "answers": v["answers"]} for k, v in iq.load_valid().items()},
    }
    Path(path).write_text(json.dumps(out, ensure_ascii=False), encoding="utf-8")
    sizes = ", ".join(f"{len(v)} {k}" for k, v in out.items())
    print(f"wrote {path}: {sizes}")


def first_sentence(text: str) -> str:
    text = text.replace("\xa0", " ").strip()
    m = SENTENCE.search(text)
    return ((m.group(0) if m else text).strip() or text[:60])[:60]


# --- plain BM25 over jieba tokens (the baseline) ----------------------------------------------------------


class PlainBM25:
    def __init__(self, docs: dict[int, str], k1: float = 1.2, b: float = 0.75) -> None:
        import jieba

        jieba.setLogLevel(60)
        self.cut = lambda s: [w for w in jieba.lcut(s) if re.search(r"\w", w)]
        self.k1, self.b = k1, b
        lengths = {}
        self.postings: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for pk, text in docs.items():
            words = self.cut(text)
            lengths[pk] = len(words)
            for w, c in Counter(words).items():
                self.postings[w].append((pk, c))
        self.lengths = lengths
        self.avgdl = sum(lengths.values()) / max(1, len(lengths))
        n = len(docs)
        self.idf = {w: math.log(1 + (n - len(p) + 0.5) / (len(p) + 0.5)) for w, p in self.postings.items()}

    def search(self, query: str, limit: int = 5) -> list[int]:
        scores: dict[int, float] = defaultdict(float)
        k1, b, avgdl = self.k1, self.b, self.avgdl
        for w in set(self.cut(query)):
            idf = self.idf.get(w)
            if idf is None:
                continue
            for pk, c in self.postings[w]:
                scores[pk] += idf * c * (k1 + 1) / (c + k1 * (1 - b + b * self.lengths[pk] / avgdl))
        return sorted(scores, key=lambda pk: (-scores[pk], pk))[:limit]


# --- measuring -------------------------------------------------------------------------------------------


def evaluate(name: str, fn, questions: list[tuple[str, set[int]]]) -> dict:
    top1 = top5 = 0
    mrr = 0.0
    times = []
    for text, gold in questions:
        t0 = time.perf_counter()
        ranked = fn(text)[:5]
        times.append((time.perf_counter() - t0) * 1000)
        for i, pk in enumerate(ranked):
            if pk in gold:
                top5 += 1
                top1 += i == 0
                mrr += 1 / (i + 1)
                break
    n = len(questions)
    times.sort()
    row = {
        "system": name,
        "n": n,
        "top1": top1 / n,
        "top5": top5 / n,
        "mrr": mrr / n,
        "ms_mean": statistics.fmean(times),
        "ms_p95": times[min(n - 1, int(0.95 * n))],
    }
    print(
        f"  {name:<34} top-1 {row['top1']:6.1%}  top-5 {row['top5']:6.1%}  MRR {row['mrr']:.3f}  "
        f"{row['ms_mean']:6.1f} ms/q (p95 {row['ms_p95']:.1f})",
        flush=True,
    )
    return row


def sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-max(-40.0, min(40.0, z))))


def _solve(a: list[list[float]], b: list[float]) -> list[float]:
    """Gaussian elimination with partial pivoting (a few unknowns)."""
    n = len(b)
    m = [row[:] + [v] for row, v in zip(a, b, strict=True)]
    for c in range(n):
        p = max(range(c, n), key=lambda r: abs(m[r][c]))
        m[c], m[p] = m[p], m[c]
        for r in range(n):
            if r != c and m[c][c]:
                f = m[r][c] / m[c][c]
                m[r] = [x - f * y for x, y in zip(m[r], m[c], strict=True)]
    return [m[i][n] / m[i][i] if m[i][i] else 0.0 for i in range(n)]


def fit_logistic(xs: list[list[float]], ys: list[int], nonneg: int = 3, ridge: float = 1e-3) -> list[float]:
    """Logistic regression by Newton's method (IRLS, a little ridge); the first `nonneg` coefficients
    must not be negative (more evidence never lowers the confidence): a feature whose coefficient
    comes out negative is dropped (0) and the rest refitted. The last weight is the bias."""
    k = len(xs[0])
    active = list(range(k))
    while True:
        cols = [*active, k]  # k: the bias
        w = [0.0] * len(cols)
        for _ in range(50):
            grad = [0.0] * len(cols)
            hess = [[0.0] * len(cols) for _ in cols]
            for x, y in zip(xs, ys, strict=True):
                row = [x[i] for i in active] + [1.0]
                p = sigmoid(sum(a * b for a, b in zip(w, row, strict=True)))
                d = p * (1 - p)
                for i, vi in enumerate(row):
                    grad[i] += (p - y) * vi
                    for j in range(i, len(row)):
                        hess[i][j] += d * vi * row[j]
            for i in range(len(cols)):
                grad[i] += ridge * w[i] * len(xs)
                hess[i][i] += ridge * len(xs)
                for j in range(i):
                    hess[i][j] = hess[j][i]
            step = _solve(hess, grad)
            w = [a - b for a, b in zip(w, step, strict=True)]
            if max(abs(v) for v in step) < 1e-7:
                break
        negative = [f for f, v in zip(active, w, strict=False) if f < nonneg and v < 0]
        if not negative:
            out = [0.0] * (k + 1)
            for f, v in zip(cols, w, strict=True):
                out[f] = v
            return out
        active.remove(negative[0])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--export", metavar="JSON", help="write the corpus to JSON (run with the corpus venv)")
    ap.add_argument("--data", default="/tmp/insuranceqa-zh.json", help="the exported corpus")
    ap.add_argument("--questions", type=int, default=0, help="ask only this many valid questions (0: all)")
    ap.add_argument("--fit", action="store_true", help="also fit weights and calibration (slow)")
    ap.add_argument("--no-plain", action="store_true", help="skip the plain BM25 baseline")
    ap.add_argument("--features-only", action="store_true", help="with --fit: measure nothing else")
    ap.add_argument("--dump", metavar="JSON", help="with --fit: keep the candidates' signals in this file")
    ap.add_argument("--fit-from", metavar="JSON", help="fit from signals kept with --dump (no database)")
    ap.add_argument(
        "--calibration-only", action="store_true", help="only the calibration (see calibration_samples)"
    )
    args = ap.parse_args()
    if args.export:
        export(args.export)
        return
    if args.fit_from:
        sys.path.insert(0, str(ROOT / "src"))
        os.environ["DJANGO_SETTINGS_MODULE"] = "kefu.config.settings"
        import django

        django.setup()
        from kefu.knowledge.retrieval import Candidate

        kept = json.loads(Path(args.fit_from).read_text(encoding="utf-8"))
        features = {
            p: [(q, set(gold), [Candidate(**c) for c in cands]) for q, gold, cands in rows]
            for p, rows in kept["features"].items()
        }
        grid_search(features, set(kept["twins"]))
        cal = Path(args.fit_from + ".calibration.json")
        if cal.exists():
            calibrate(json.loads(cal.read_text(encoding="utf-8")))
        return

    sys.path.insert(0, str(ROOT / "src"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "kefu.config.settings"
    os.environ["KEFU_DATA_DIR"] = tempfile.mkdtemp(prefix="kefu-kb-bench-")
    os.environ.pop("KEFU_DATABASE_URL", None)  # always a dedicated temporary SQLite database
    os.environ["KEFU_HUEY_IMMEDIATE"] = "0"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    from kefu.core import clock
    from kefu.knowledge import retrieval, search
    from kefu.knowledge.models import Article, ArticleVariant

    data = json.loads(Path(args.data).read_text(encoding="utf-8"))
    answers: dict[str, str] = data["answers"]
    train, valid = data["train"], data["valid"]
    print(f"database: {connection.settings_dict['NAME']}")
    t0 = time.perf_counter()
    call_command("migrate", verbosity=0)
    print(f"migrated in {time.perf_counter() - t0:.1f} s")

    # held-out paraphrases: per answer with ≥ 2 different train questions, the last one
    by_answer: dict[str, list[str]] = defaultdict(list)
    for key in sorted(train, key=int):
        for a in train[key]["answers"]:
            if train[key]["zh"] not in by_answer[a]:
                by_answer[a].append(train[key]["zh"])
    held: set[str] = {qs[-1] for qs in by_answer.values() if len(qs) >= 2}
    train_gold: dict[str, set[str]] = defaultdict(set)
    for q in train.values():
        train_gold[q["zh"]].update(q["answers"])

    # articles: ids are the answer ids (+1, ids start at 1)
    now = clock.now()
    t0 = time.perf_counter()
    rows = [
        Article(
            id=int(k) + 1,
            title=first_sentence(text),
            slug="",
            body=text.replace("\xa0", " ").strip(),
            audience="public",
            status="published",
            created_at=now,
            updated_at=now,
            published_at=now,
        )
        for k, text in answers.items()
    ]
    Article.objects.bulk_create(rows, batch_size=2000)
    variants = [
        ArticleVariant(article_id=int(a) + 1, text=text[:300], source="import", created_at=now)
        for a, texts in by_answer.items()
        for text in texts
        if text not in held
    ]
    ArticleVariant.objects.bulk_create(variants, batch_size=2000, ignore_conflicts=True)
    print(f"loaded {len(rows)} articles and {len(variants)} variants in {time.perf_counter() - t0:.1f} s")
    t0 = time.perf_counter()
    with transaction.atomic():  # one transaction, on this thread
        n = search.reindex("article")
    dt = time.perf_counter() - t0
    print(f"indexed {n} articles in {dt:.1f} s ({n / dt:.0f} docs/s)")
    t0 = time.perf_counter()
    retrieval.rank_articles("预热", limit=1)
    print(f"ranker cache built in {time.perf_counter() - t0:.1f} s")

    valid_qs = [(valid[k]["zh"], {int(a) + 1 for a in valid[k]["answers"]}) for k in sorted(valid, key=int)]
    if args.questions:
        valid_qs = valid_qs[: args.questions]
    para_qs = [(q, {int(a) + 1 for a in train_gold[q]}) for q in sorted(held)]
    twins = {q for q, _ in valid_qs} & set(train_gold)
    print(
        f"questions: valid {len(valid_qs)} ({len(twins)} of them also train questions, with other answers); "
        f"paraphrase {len(para_qs)}"
    )

    def kefu_search(q: str) -> list[int]:
        return [h.object_id for h in search.search(q, kinds=("article",), audience="public", limit=5)]

    def kefu_rank(q: str) -> list[int]:
        return [r.article_id for r in retrieval.rank_articles(q, audience="public", limit=5)]

    if args.calibration_only:
        samples = calibration_samples(valid_qs, para_qs, twins, rows, variants)
        if args.dump:
            Path(args.dump + ".calibration.json").write_text(json.dumps(samples), encoding="utf-8")
        calibrate(samples)
        return
    results: dict[str, list[dict]] = {"valid": [], "paraphrase": []}
    plain = None
    if not args.no_plain:
        t0 = time.perf_counter()
        plain = PlainBM25({int(k) + 1: v for k, v in answers.items()})
        print(f"plain BM25 index in {time.perf_counter() - t0:.1f} s")
    for proto, qs in (("valid", valid_qs), ("paraphrase", para_qs)):
        if args.features_only:
            break
        print(f"{proto}:")
        if plain is not None:
            results[proto].append(evaluate("plain BM25 (jieba, bodies)", plain.search, qs))
        results[proto].append(evaluate("kefu search()", kefu_search, qs))
        results[proto].append(evaluate("kefu rank_articles()", kefu_rank, qs))

    features: dict[str, list] = {}
    if args.fit:
        for proto, qs in (("valid", valid_qs), ("paraphrase", para_qs)):
            features[proto] = [(q, gold, retrieval.candidates(q)) for q, gold in qs]
        if args.dump:
            kept = {
                "twins": sorted(twins),
                "features": {
                    p: [(q, sorted(gold), [vars(c) for c in cands]) for q, gold, cands in rows]
                    for p, rows in features.items()
                },
            }
            Path(args.dump).write_text(json.dumps(kept, ensure_ascii=False), encoding="utf-8")
        grid_search(features, twins)

    if not args.features_only:
        without_variants(valid_qs, para_qs, results, kefu_search, kefu_rank)
    if args.fit:
        samples = calibration_samples(valid_qs, para_qs, twins, rows, variants)
        if args.dump:
            Path(args.dump + ".calibration.json").write_text(json.dumps(samples), encoding="utf-8")
        calibrate(samples)
    print(json.dumps(results, indent=1))


def without_variants(valid_qs, para_qs, results, kefu_search, kefu_rank) -> None:
    from django.db import transaction

    from kefu.core import clock
    from kefu.knowledge import retrieval, search
    from kefu.knowledge.models import Article, ArticleVariant

    with transaction.atomic():
        ArticleVariant.objects.all().delete()
        Article.objects.update(updated_at=clock.now())
        search.reindex("article")
    retrieval.clear_cache()
    for proto, qs in (("valid", valid_qs), ("paraphrase", para_qs)):
        print(f"{proto}, no variants:")
        results[proto].append(evaluate("kefu search(), no variants", kefu_search, qs))
        results[proto].append(evaluate("kefu rank_articles(), no variants", kefu_rank, qs))


def grid_search(features: dict[str, list], twins: set[str]) -> None:
    """Report the best ranking weights of a small grid (MRR on the first half of each protocol's
    questions, twins left out) beside the product's (retrieval.WEIGHTS)."""
    from kefu.knowledge import retrieval

    def ranked(cands, weights):
        return sorted(cands, key=lambda c: (-c.combine(weights), c.article_id))

    def mrr(rows, weights):
        total = 0.0
        for _q, gold, cands in rows:
            for i, c in enumerate(ranked(cands, weights)[:5]):
                if c.article_id in gold:
                    total += 1 / (i + 1)
                    break
        return total / max(1, len(rows))

    rows_by = {p: [r for r in rows if r[0] not in twins] for p, rows in features.items()}
    halves = {p: (rows[: len(rows) // 2], rows[len(rows) // 2 :]) for p, rows in rows_by.items()}
    grid = []
    for cov in (0.0, 0.5, 1.0, 2.0):
        for title in (0.5, 1.0, 1.5):
            for variant in (0.0, 0.5, 1.0, 2.0):
                w = {"lexical": 1.0, "coverage": cov, "title": title, "variant": variant}
                dev = {p: round(mrr(h[0], w), 4) for p, h in halves.items()}
                grid.append((statistics.fmean(dev.values()), w, dev))
    grid.sort(key=lambda g: -g[0])
    for _s, w, dev in grid[:3]:
        held = {p: round(mrr(h[1], w), 4) for p, h in halves.items()}
        print(f"grid {w}: MRR first half {dev}, second half {held}")
    w = retrieval.WEIGHTS
    print(
        f"product {w}: MRR first half { {p: round(mrr(h[0], w), 4) for p, h in halves.items()} }, "
        f"second half { {p: round(mrr(h[1], w), 4) for p, h in halves.items()} }"
    )


CALIBRATION_RUNS = {10000: 1, 2000: 1, 500: 4, 100: 12, 20: 30}  # help-center size → how many


def calibration_samples(valid_qs, para_qs, twins, rows, variants, seed: int = 7) -> list[list[float]]:
    """Real smaller help centers of the CALIBRATION_RUNS sizes, each loaded alone into the (emptied)
    database and indexed: random articles where half of the questions asked have their right articles
    (known) and half have none of them (unknown). Each asked question that finds an article gives
    [score, margin, coverage, ln(articles), right?, articles, known?] of the ranker's first article.
    Destructive: run last."""
    import random

    from django.db import transaction

    from kefu.knowledge import retrieval, search
    from kefu.knowledge.models import Article, ArticleVariant

    rnd = random.Random(seed)
    pool = [(q, gold) for q, gold in valid_qs + para_qs if q not in twins]
    by_id = {a.id: a for a in rows}
    variants_of: dict[int, list] = defaultdict(list)
    for v in variants:
        variants_of[v.article_id].append(v)
    everything = sorted(by_id)
    samples: list[list[float]] = []
    for size, runs in CALIBRATION_RUNS.items():
        found = asked_n = 0
        for _run in range(runs):
            rnd.shuffle(pool)
            known: list[tuple[str, set[int]]] = []
            must: set[int] = set()
            for q, gold in pool:
                if len(known) >= min(size, len(pool)) // 2:
                    break
                if len(must | gold) <= size:
                    known.append((q, gold))
                    must |= gold
            asked = {q for q, _g in known}
            unknown = [(q, g) for q, g in pool if q not in asked and not g & must][: len(known)]
            forbidden = set().union(*(g for _q, g in unknown))
            taken = must | forbidden
            fill = [pk for pk in rnd.sample(everything, min(len(everything), size * 3)) if pk not in taken]
            kb = must | set(fill[: size - len(must)])
            with transaction.atomic():
                Article.objects.all().delete()
                Article.objects.bulk_create(
                    [replace_article(by_id[pk]) for pk in sorted(kb)], batch_size=2000
                )
                ArticleVariant.objects.bulk_create(
                    [
                        ArticleVariant(article_id=pk, text=v.text, source=v.source, created_at=v.created_at)
                        for pk in kb
                        for v in variants_of.get(pk, ())
                    ],
                    batch_size=2000,
                    ignore_conflicts=True,
                )
                search.reindex("article")
            retrieval.clear_cache()
            n = retrieval.pool_size()
            for (q, gold), is_known in [*((k, True) for k in known), *((u, False) for u in unknown)]:
                asked_n += 1
                cands = retrieval.candidates(q)
                coverage = {c.article_id: c.coverage for c in cands}
                order = retrieval.order(cands, articles=n, limit=2)
                if not order:
                    continue  # nothing found: no answer (and nothing to calibrate)
                first = next(c for c in cands if c.article_id == order[0].article_id)
                margin = retrieval.lead(first, order[1].score if len(order) > 1 else None)
                right = int(is_known and first.article_id in gold)
                samples.append(
                    [first.score, margin, coverage[first.article_id], math.log(n), right, n, int(is_known)]
                )
                found += 1
        print(f"calibration: {runs} × {size} articles, {asked_n} questions asked, {found} found an article")
    return samples


def replace_article(a):
    from kefu.knowledge.models import Article

    return Article(
        id=a.id,
        title=a.title,
        slug=a.slug,
        body=a.body,
        audience=a.audience,
        status=a.status,
        created_at=a.created_at,
        updated_at=a.updated_at,
        published_at=a.published_at,
    )


def calibrate(samples: list[list[float]]) -> None:
    """Fit confidence = sigmoid(A·score + B·margin + C·coverage + E·ln(articles) + D) on the questions
    with an even position in each size's list, report the reliability on the others."""
    dev = [s for i, s in enumerate(samples) if i % 2 == 0]
    test = [s for i, s in enumerate(samples) if i % 2 == 1]
    k = fit_logistic([s[:4] for s in dev], [int(s[4]) for s in dev])
    for name, rows in (("fitted", dev), ("held-out", test)):
        loss = -statistics.fmean(
            math.log(max(1e-9, p if s[4] else 1 - p))
            for s in rows
            for p in [sigmoid(k[4] + sum(a * b for a, b in zip(k[:4], s[:4], strict=True)))]
        )
        print(f"  log loss, {name} half: {loss:.3f}")
    print(
        f"calibration: {{'score': {k[0]:.3f}, 'margin': {k[1]:.3f}, 'coverage': {k[2]:.3f}, "
        f"'log_articles': {k[3]:.3f}, 'bias': {k[4]:.3f}}}"
    )

    def conf(x):
        return sigmoid(k[4] + sum(a * b for a, b in zip(k[:4], x[:4], strict=True)))

    buckets: dict[int, list[tuple[float, int]]] = defaultdict(list)
    for s in test:
        p = conf(s)
        buckets[min(9, int(p * 10))].append((p, int(s[4])))
    print(f"held-out ({len(test)} questions, all sizes): confidence, questions, mean confidence, share right")
    for b in sorted(buckets):
        ps = buckets[b]
        mean_p = statistics.fmean(p for p, _ in ps)
        print(
            f"  {b / 10:.1f}–{(b + 1) / 10:.1f}  {len(ps):5d}  {mean_p:.2f}  "
            f"{statistics.fmean(y for _, y in ps):.2f}"
        )
    print("held-out per size: known right first | at thresholds 0.3 / 0.5 / 0.7: share answered, share right")
    for size in sorted({int(s[5]) for s in test}):
        rows = [s for s in test if int(s[5]) == size]
        known = [int(s[4]) for s in rows if s[6]]
        cells = []
        for th in (0.3, 0.5, 0.7):
            answered = [int(s[4]) for s in rows if conf(s) >= th]
            cells.append(
                f"{len(answered) / max(1, len(rows)):5.1%} {sum(answered) / max(1, len(answered)):5.1%}"
            )
        print(f"  {size:6d}: {statistics.fmean(known) if known else 0:5.1%} | " + " | ".join(cells))


if __name__ == "__main__":
    main()
