"""Text handling shared by every app: cleaning user input, and Chinese segmentation for search."""

from __future__ import annotations

import logging
import math
import re
import threading
import unicodedata
from collections import ChainMap
from collections.abc import Iterable, Sequence
from typing import Any

from django.utils.translation import gettext as _

from kefu.core.errors import ValidationFailed

# control characters other than tab/newline/carriage return; NUL also breaks PostgreSQL text columns
_FORBIDDEN = {chr(c) for c in range(32) if chr(c) not in "\t\n\r"} | {"\x7f"}


def clean_text(
    value: object, field: str, max_len: int, *, required: bool = False, single_line: bool = False
) -> str:
    """Strip, NFC-normalize and check user text; raise ValidationFailed naming `field`."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationFailed(_("%(field)s must be text.") % {"field": field}, field=field)
    text = unicodedata.normalize("NFC", value).strip()
    if any(ch in _FORBIDDEN for ch in text):
        raise ValidationFailed(_("%(field)s contains control characters.") % {"field": field}, field=field)
    if single_line and ("\n" in text or "\r" in text):
        raise ValidationFailed(_("%(field)s must be a single line.") % {"field": field}, field=field)
    if required and not text:
        raise ValidationFailed(_("%(field)s must not be empty.") % {"field": field}, field=field)
    if len(text) > max_len:
        raise ValidationFailed(
            _("%(field)s is longer than %(max)d characters.") % {"field": field, "max": max_len}, field=field
        )
    return text


def strip_control(value: str) -> str:
    """For search terms: drop control characters instead of refusing."""
    return "".join(ch for ch in value if ch not in _FORBIDDEN)


# --- Chinese segmentation for search (kefu.knowledge.search) ------------------------------------
# Text is NFKC-normalized and lowercased, cut into words with jieba's prefix dictionary plus the
# organization's own words (no HMM: the same text always gives the same words, and the character
# bigrams below already find words the dictionary does not know), and every run of Chinese characters
# also gives its character bigrams, prefixed with BIGRAM_PREFIX so they never collide with words
# ("zz退款"). Terms keep only letters and digits, so both SQLite FTS5 (unicode61) and PostgreSQL's
# 'simple' parser see each term as exactly one token.

BIGRAM_PREFIX = "zz"
MAX_TERM_LEN = 64
STOP_WORDS = frozenset(
    [
        "的", "了", "吗", "呢", "吧", "啊", "呀", "哦", "嗯", "哈", "么", "之", "是", "我", "你", "您",
        "他", "她", "它", "我们", "你们", "他们", "咱们", "在", "和", "与", "及", "或", "也", "都",
        "就", "还",
        "又", "被", "把", "给", "让", "这", "那", "这个", "那个", "一个", "有", "请", "请问",
        "a", "an", "and", "are", "be", "but", "by", "for", "if", "in", "is", "it", "of", "on",
        "or", "that", "the", "this", "to", "was", "were", "with",
    ]
)  # fmt: skip
# particles end a run of Chinese characters for bigrams: "好的吗" gives no 好的/的吗 noise
_PARTICLES = "的了吗呢吧啊呀哦嗯哈"
_PREFIX_ONLY = 1.0  # Lexicon._pfx value of a string that only starts words
# CJK ideographs: extension A, the unified block, the assigned compatibility ideographs
_CJK_RANGES = [(0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFA6D), (0xFA70, 0xFAD9)]
_CJK = "".join(f"\\u{lo:04x}-\\u{hi:04x}" for lo, hi in _CJK_RANGES)
# a block jieba cuts (its own re_han_default, widened to all CJK ideographs); the rest splits on
# anything that is not a letter or a digit
_BLOCK_RE = re.compile(rf"([{_CJK}a-z0-9+#&._%\-]+)")
_OTHER_WORD_RE = re.compile(r"[^\W_]+")


def _ranges_without(ranges: list[tuple[int, int]], holes: str) -> str:
    out = []
    for lo, hi in ranges:
        for cut in sorted(ord(h) for h in holes if lo <= ord(h) <= hi):
            if lo < cut:
                out.append((lo, cut - 1))
            lo = cut + 1
        if lo <= hi:
            out.append((lo, hi))
    return "".join(f"\\u{lo:04x}-\\u{hi:04x}" if lo < hi else f"\\u{lo:04x}" for lo, hi in out)


# a piece of a Chinese run between particles (the unit of bigrams)
_CJK_PIECE_RE = re.compile("[" + _ranges_without(_CJK_RANGES, _PARTICLES) + "]+")
_ASCII_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")
_NON_ALNUM_RE = re.compile(r"[\W_]+")


def search_normalize(text: str) -> str:
    """NFKC (full-width letters and digits become ASCII) and lowercase."""
    return unicodedata.normalize("NFKC", text).lower()


def term_of(word: str) -> str:
    """Only the letters and digits of a word: "OC-3A" → "oc3a"; punctuation gives ""."""
    word = search_normalize(word)
    if word.isalnum():
        return word
    return _NON_ALNUM_RE.sub("", word)


_base_lock = threading.Lock()
_base: Any = None  # the initialized jieba.Tokenizer with the default dictionary


def _base_tokenizer() -> Any:
    """jieba's default dictionary, loaded once per process (≈1 s; jieba caches it in the temp dir),
    with lowercase copies of its few mixed-case words (B超 → b超) because search text is lowercased."""
    global _base
    if _base is None:
        with _base_lock:
            if _base is None:
                import jieba

                jieba.setLogLevel(logging.WARNING)
                tk = jieba.Tokenizer()
                tk.initialize()
                for word, freq in list(tk.FREQ.items()):
                    if freq and word != word.lower() and word.lower() not in tk.FREQ:
                        tk.add_word(word.lower(), freq)
                _base = tk
    return _base


class Lexicon:
    """An immutable segmentation state: jieba's dictionary plus user words, and the synonym map.
    Build a new one to change words (threads keep cutting with the old one meanwhile)."""

    cut_cache_size = 200_000  # cut blocks (phrases between punctuation) remembered; customers repeat

    def __init__(self, user_words: Iterable[str] = (), synonym_groups: Iterable[Sequence[str]] = ()) -> None:
        import jieba

        base = _base_tokenizer()
        tk = jieba.Tokenizer()  # reads jieba's dictionary, writes the user words into its own layer
        tk.FREQ, tk.total, tk.initialized = ChainMap({}, base.FREQ), base.total, True
        self.user_words: list[str] = []
        synonym_groups = [list(g) for g in synonym_groups]
        added: set[str] = set()
        for raw in [*user_words, *(t for g in synonym_groups for t in g)]:
            # whole words only when jieba can see them whole (no spaces); others stay separate words
            word = search_normalize(raw).strip()
            if word and _BLOCK_RE.fullmatch(word) and len(word) <= MAX_TERM_LEN and word not in added:
                added.add(word)
                tk.add_word(word)
                self.user_words.append(word)
        # every prefix of a word → its log probability, or _PREFIX_ONLY when it is only a prefix
        logtotal = math.log(tk.total)
        self._logtotal = logtotal
        log = math.log
        self._pfx: dict[str, float] = {
            w: (log(f) - logtotal if f else _PREFIX_ONLY) for w, f in base.FREQ.items()
        }
        for w, f in tk.FREQ.maps[0].items():
            self._pfx[w] = log(f) - logtotal if f else self._pfx.get(w, _PREFIX_ONLY)
        self.synonyms: dict[str, str] = {}  # term → the group's first term
        self.groups: dict[str, list[str]] = {}  # first term → every term's surface form (for snippets)
        for group in synonym_groups:
            terms = [t for t in (search_normalize(s).strip() for s in group) if t and term_of(t)]
            if len(terms) < 2:
                continue
            main = term_of(terms[0])
            for t in terms:
                self.synonyms.setdefault(term_of(t), main)
            self.groups.setdefault(main, []).extend(terms)
        self._cut_cache: dict[str, tuple[str, ...]] = {}

    # --- words ------------------------------------------------------------------------------------
    def _cut_block(self, block: str) -> tuple[str, ...]:
        """jieba's Tokenizer.cut(block, HMM=False), faster: one right-to-left pass builds the DAG and
        the best route; consecutive single ASCII letters/digits are joined as jieba does."""
        cached = self._cut_cache.get(block)
        if cached is not None:
            return cached
        get, miss = self._pfx.get, -self._logtotal
        n = len(block)
        score = [0.0] * (n + 1)
        end = [0] * (n + 1)
        for k in range(n - 1, -1, -1):
            best, best_x = 1.0, k  # 1.0: no word starts here (log probabilities are negative)
            i = k
            v = get(block[k])
            while v is not None:
                if v < 0.0:
                    s = v + score[i + 1]
                    if best > 0.0 or s >= best:  # ties go to the longer word, as in jieba
                        best, best_x = s, i
                i += 1
                if i >= n:
                    break
                v = get(block[k : i + 1])
            if best > 0.0:  # a character jieba does not know: a word of its own
                best, best_x = miss + score[k + 1], k
            score[k], end[k] = best, best_x
        words: list[str] = []
        buf = ""
        x = 0
        while x < n:
            y = end[x] + 1
            word = block[x:y]
            if y - x == 1 and word in _ASCII_ALNUM:
                buf += word
            else:
                if buf:
                    words.append(buf)
                    buf = ""
                words.append(word)
            x = y
        if buf:
            words.append(buf)
        result = tuple(words)
        if len(self._cut_cache) >= self.cut_cache_size:
            if not self.cut_cache_size:
                return result
            self._cut_cache.clear()
        self._cut_cache[block] = result
        return result

    def words(self, text: str) -> list[str]:
        """The words of `text` as jieba cuts them (normalized, punctuation and spaces dropped)."""
        out: list[str] = []
        for i, part in enumerate(_BLOCK_RE.split(search_normalize(text))):
            if not part:
                continue
            if i % 2:  # a block
                out.extend(w for w in self._cut_block(part) if _NON_ALNUM_RE.sub("", w))
            else:
                out.extend(_OTHER_WORD_RE.findall(part))
        return out

    # --- terms ------------------------------------------------------------------------------------
    def terms(self, text: str, *, query: bool = False) -> list[str]:
        """The index terms of `text` (query=True: of a query, each once; see query_terms)."""
        if query:
            return [t for t, _prefix in self.query_terms(text)]
        return self._terms(text, query=False)[0]

    def query_terms(self, text: str) -> list[tuple[str, bool]]:
        """A query's terms, each once, with whether it is a prefix. A lone character (退) is a prefix
        of words and of bigram terms — only when the query has no longer Chinese piece: 我要退 must not
        match every text with a word starting with 退."""
        terms, singles = self._terms(text, query=True)
        out = [(t, False) for t in dict.fromkeys(terms)]
        if singles and not any(t.startswith(BIGRAM_PREFIX) for t in terms):
            lone = dict.fromkeys(singles)
            out = [(t, False) for t, _ in out if t not in lone]
            for ch in lone:
                out += [(ch, True), (BIGRAM_PREFIX + ch, True)]
        return out

    def _terms(self, text: str, *, query: bool) -> tuple[list[str], list[str]]:
        """Words (with jieba's search-mode sub-words of three characters), stop words dropped, synonyms
        mapped to their group's first term; then the character bigrams of each Chinese run (split at
        particles), prefixed with BIGRAM_PREFIX. The index leaves out a bigram that is exactly a
        two-character word already listed (退款 is enough; a query asks for both 退款 and zz退款) and
        adds the last character of each run alone, so that every character starts some term (a
        one-character query looks for words and bigram terms starting with it)."""
        pfx, synonyms, stop, prefix = self._pfx, self.synonyms, STOP_WORDS, BIGRAM_PREFIX
        out: list[str] = []
        singles: list[str] = []
        add, extend = out.append, out.extend
        for i, part in enumerate(_BLOCK_RE.split(search_normalize(text))):
            if not part:
                continue
            if not i % 2:
                for w in _OTHER_WORD_RE.findall(part):
                    if len(w) <= MAX_TERM_LEN and w not in stop:
                        add(synonyms.get(w, w))
                continue
            words = self._cut_block(part)
            skip: set[int] = set()
            pos = 0
            for word in words:
                n = len(word)
                if n == 2 and not query and word.isalpha() and not word.isascii():
                    skip.add(pos)
                pos += n
                if n > 3:  # search-mode sub-words (中华人民共和国 → 共和国, …)
                    for j in range(n - 2):
                        sub = word[j : j + 3]
                        if pfx.get(sub, 1.0) < 0.0:
                            add(synonyms.get(sub, sub))
                if word.isalnum():
                    term = word
                else:  # a model number such as oc-3a is one term (oc3a); the index also gets oc, 3a
                    term = _NON_ALNUM_RE.sub("", word)
                    if not query and term:
                        extend(
                            p
                            for p in _NON_ALNUM_RE.split(word)
                            if p and p not in stop and len(p) <= MAX_TERM_LEN
                        )
                # a lone Chinese character is no term of its own (不, 很, 好 match half the texts):
                # the bigram terms hold it, and a one-character query looks for them
                if term and n <= MAX_TERM_LEN and term not in stop and (n > 1 or term.isascii()):
                    add(synonyms.get(term, term))
            for run in _CJK_PIECE_RE.finditer(part):
                piece, at = run.group(), run.start()
                m = len(piece)
                if m > 1:
                    extend([prefix + piece[k : k + 2] for k in range(m - 1) if at + k not in skip])
                if not query:
                    add(prefix + piece[-1])
                elif m == 1 and piece not in stop:
                    singles.append(piece)
        return out, singles

    def highlight_words(self, query: str) -> list[str]:
        """What to mark in a snippet for `query`: its words as typed (normalized), every term of
        their synonym groups, and the two-character pieces of its Chinese runs."""
        marks: list[str] = []
        for word in self.words(query):
            if word in STOP_WORDS:
                continue
            marks.append(word)
            main = self.synonyms.get(term_of(word))
            if main:
                marks.extend(self.groups.get(main, ()))
        for piece in _CJK_PIECE_RE.findall(search_normalize(query)):
            marks.extend(piece[k : k + 2] for k in range(len(piece) - 1))
            if len(piece) == 1:
                marks.append(piece)
        return [m for m in dict.fromkeys(marks) if m.strip() and m not in STOP_WORDS]
