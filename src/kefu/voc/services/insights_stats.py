"""The arithmetic of insights, free of the ORM: ISO weeks in the local time zone, key phrases of a
group of texts, clustering by the strongest shared phrase, and the spike test.

Spike test (documented choice). The question is "is this topic a larger part of what customers
complain about this week than it was in the trailing eight weeks?" — a question about a *share*, so
that a week with more reviews overall (a sale, an import) does not flag every topic. With k of this
week's n negative items in the insight, and the topic's share p₀ of the trailing eight weeks' negative
items, we ask how likely k or more is under Binomial(n, p₀): the one-sided binomial test
(scipy.stats.binomtest, alternative="greater"). p₀ is smoothed (add ½ to the topic, 1 to the total) so
a topic never seen before is not "infinitely" surprising. A spike needs all three of p < 0.01, at least
3 items this week and at least twice the weekly baseline mean; the last two keep tiny counts and
ordinary wobble (2, 1, 3, 2, 2, 1, 2, 3 then 3) from being flagged even when the share moves.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

from kefu.core.text import STOP_WORDS

WEEKS = 9  # this week and the trailing eight
SPIKE_ALPHA = 0.01
SPIKE_MIN_ITEMS = 3
SPIKE_MIN_RATIO = 2.0
MIN_ITEMS = 3  # an insight needs at least this many items
TOP_PHRASES = 12  # candidate phrases per group, strongest first
KEY_PHRASES = 5

# words that say nothing about *what* went wrong (jieba's IDF already weighs most of them down)
_EXTRA_STOP_TEXT = """
没有 不是 就是 还是 一直 非常 真的 感觉 东西 一下 已经 但是 而且 因为 所以 这样 怎么 什么 可以 不能
一次 两次 商品 产品 宝贝 卖家 店家 买家 购买 收到 差评 好评 中评 评价 追评 一般 特别 比较 有点 太差
不行 麻烦 失望 垃圾 不好 很差 太慢 问题 客户 您好 你好 谢谢 请问 希望 需要 现在 今天 昨天 时候 还有
怎么办 为什么 一个 这个 那个 自己 我们 你们 他们 知道 出现 处理 解决 联系 反映 投诉 客服 师傅
"""
EXTRA_STOP = frozenset(_EXTRA_STOP_TEXT.split())


# --- weeks --------------------------------------------------------------------------------------


def week_start(day: date) -> date:
    """The Monday of the ISO week of `day`."""
    return day - timedelta(days=day.weekday())


def week_of(at: datetime, tz: object) -> date:
    """The Monday (a local date) of the week `at` falls in, in the time zone `tz`."""
    return week_start(at.astimezone(tz).date())  # type: ignore[arg-type]


def window_weeks(this_monday: date, weeks: int = WEEKS) -> list[date]:
    """The Mondays of the window, oldest first, ending with this week's."""
    return [this_monday - timedelta(weeks=weeks - 1 - i) for i in range(weeks)]


# --- key phrases --------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _idf() -> tuple[dict[str, float], float]:
    """jieba's bundled IDF table (general Chinese; offline) and its median, for unknown words."""
    import jieba.analyse

    table = jieba.analyse.default_tfidf
    return table.idf_freq, table.median_idf


def phrase_candidates(words: Iterable[str], exclude: frozenset[str] = frozenset()) -> set[str]:
    """The distinct words of a text that could name a problem: two characters or more (a lone
    character is too vague), not a stop word, not a number, not in `exclude` (the product's name)."""
    out = set()
    for w in words:
        if len(w) < 2 or w.isdigit() or w in STOP_WORDS or w in EXTRA_STOP or w in exclude:
            continue
        out.add(w)
    return out


def rank_phrases(docs: Sequence[set[str]], min_docs: int = MIN_ITEMS) -> list[tuple[str, float]]:
    """Phrases shared by at least `min_docs` texts, strongest first: document frequency in the group
    times jieba's IDF (how rare the word is in general Chinese), so 噪音 beats 东西. Ties: alphabetical."""
    idf, median = _idf()
    df: Counter[str] = Counter()
    for words in docs:
        df.update(words)
    scored = [(w, n * idf.get(w, median)) for w, n in df.items() if n >= min_docs]
    scored.sort(key=lambda ws: (-ws[1], ws[0]))
    return scored


def cluster(docs: Sequence[set[str]], min_items: int = MIN_ITEMS) -> list[tuple[str, list[int]]]:
    """Greedy clustering by the strongest shared phrase: each text joins the cluster of the first
    (strongest) candidate phrase it contains; clusters under `min_items` are dropped and their texts
    may join a weaker phrase. Returns [(phrase, [doc indexes])], strongest first."""
    ranked = [w for w, _s in rank_phrases(docs, min_items)[:TOP_PHRASES]]
    free = set(range(len(docs)))
    out: list[tuple[str, list[int]]] = []
    for phrase in ranked:
        members = sorted(i for i in free if phrase in docs[i])
        if len(members) >= min_items:
            out.append((phrase, members))
            free.difference_update(members)
    return out


def key_phrases(phrase: str, docs: Sequence[set[str]], limit: int = KEY_PHRASES) -> list[str]:
    """The cluster's phrase first, then the words most of its texts share (in two texts or more)."""
    others = [w for w, _s in rank_phrases(docs, min_docs=2) if w != phrase]
    return [phrase, *others[: limit - 1]]


# --- spikes -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Spike:
    is_spike: bool
    p_value: float | None
    baseline_mean: float


def spike_test(weekly: Sequence[int], negatives: Sequence[int]) -> Spike:
    """Is the last week a spike? `weekly` are the insight's counts, `negatives` all negative items per
    week, both oldest first with this week last (see the module docstring for the test)."""
    from scipy.stats import binomtest

    *before, k = weekly
    *before_total, n = negatives
    baseline_mean = sum(before) / len(before) if before else 0.0
    if n <= 0 or k <= 0:
        return Spike(False, None, baseline_mean)
    p0 = (sum(before) + 0.5) / (sum(before_total) + 1.0)
    p0 = min(max(p0, 1e-9), 1.0)
    p_value = float(binomtest(int(k), int(max(n, k)), p0, alternative="greater").pvalue)
    if math.isnan(p_value):
        p_value = 1.0
    flagged = p_value < SPIKE_ALPHA and k >= SPIKE_MIN_ITEMS and k >= SPIKE_MIN_RATIO * baseline_mean
    return Spike(flagged, p_value, baseline_mean)


def impact(item_count: int, sentiments: Iterable[float | None], is_spike: bool) -> float:
    """item_count × (1 + mean |negative sentiment|) × (2 for a spike): many angry items this week
    rank first."""
    neg = [abs(s) if s is not None and s < 0 else 0.0 for s in sentiments]
    strength = sum(neg) / len(neg) if neg else 0.0
    return round(item_count * (1.0 + strength) * (2.0 if is_spike else 1.0), 3)
