"""Chinese text models for voice of customer: sentiment, cause category, touchpoint.

`analyze(texts)` is the one entry point (feedback items, `POST /api/v1/voc/analyze`, suggestions in
the UI). Out of the box it uses a sentiment lexicon and the taxonomy nodes' keywords; once the
organization has labels (people's, and review star ratings for sentiment) the active TextModel
version of each kind is used instead."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from kefu.voc.choices import LabelSource, Polarity

# a learned cause/touchpoint below this confidence, or with no word or bigram of the text behind it
# (single characters such as 不 say nothing), is not used: the classes are only those people have
# labelled so far, so a text about something else would otherwise be forced into one of them
MIN_MODEL_CONFIDENCE = 0.5


@dataclass
class Label:
    """A cause or touchpoint suggestion: node id (None: no suggestion) and how sure."""

    node_id: int | None = None
    confidence: float = 0.0
    source: str = LabelSource.NONE
    model_id: int | None = None
    terms: list[str] = field(default_factory=list)  # the words that weighed most (explanation)


@dataclass
class Analysis:
    sentiment: float = 0.0  # −1 … 1
    polarity: str = Polarity.NEUTRAL
    sentiment_confidence: float = 0.0
    sentiment_source: str = LabelSource.NONE
    sentiment_model_id: int | None = None
    sentiment_terms: list[str] = field(default_factory=list)
    cause: Label = field(default_factory=Label)
    touchpoint: Label = field(default_factory=Label)


KINDS = ("sentiment", "cause", "touchpoint")
Models = dict[str, "tuple[int | None, dict] | None"]


def analyze(
    texts: Sequence[str], *, models: Models | None = None, kinds: Sequence[str] = KINDS
) -> list[Analysis]:
    """Sentiment, cause and touchpoint for each text, in one batch.

    Each kind uses its active TextModel version, else the lexicon (sentiment) or the taxonomy keywords
    (cause, touchpoint). `models` ({kind: (model id, artifact)} or {kind: None} for the lexicon/rules)
    replaces the active versions — for evaluating a new version or the benchmark; `kinds` limits the
    work to some kinds (the others stay empty)."""
    from kefu.voc.textmodels import lexicon, predict, rules
    from kefu.voc.textmodels.features import featurize

    texts = [t or "" for t in texts]
    results = [Analysis() for _ in texts]
    if not texts:
        return results
    chosen: dict[str, tuple[int | None, dict] | None] = {}
    active = predict.active_ids() if models is None or any(k not in models for k in kinds) else {}
    for kind in kinds:
        if models is not None and kind in models:
            chosen[kind] = models[kind]
        elif kind in active:
            artifact = predict.load(active[kind])
            chosen[kind] = (active[kind], artifact) if artifact is not None else None
        else:
            chosen[kind] = None
    in_use = [v[1] for v in chosen.values() if v is not None]
    batch = predict.Batch(featurize(texts), in_use) if in_use else None
    if "sentiment" in kinds:
        model = chosen["sentiment"]
        if model is None:
            for res, text in zip(results, texts, strict=True):
                lex = lexicon.analyze_text(text)
                res.sentiment, res.polarity = lex.sentiment, lex.polarity
                res.sentiment_confidence, res.sentiment_terms = lex.confidence, lex.terms
                res.sentiment_source = LabelSource.RULE if lex.confidence else LabelSource.NONE
        else:
            for res, p in zip(results, predict.predict(model[1], batch), strict=True):
                score = p.proba.get(Polarity.POSITIVE, 0.0) - p.proba.get(Polarity.NEGATIVE, 0.0)
                res.sentiment = round(max(-1.0, min(1.0, score)), 4)
                res.polarity = str(p.label)
                res.sentiment_confidence = p.confidence
                res.sentiment_source = LabelSource.MODEL
                res.sentiment_model_id = model[0]
                res.sentiment_terms = p.terms
    for kind in ("cause", "touchpoint"):
        if kind not in kinds:
            continue
        model = chosen[kind]
        if model is None:
            for res, m in zip(results, rules.match(texts, kind), strict=True):
                if m.node_id is not None:
                    setattr(res, kind, Label(m.node_id, m.confidence, LabelSource.RULE, None, m.terms))
        else:
            unsure: list[int] = []
            for i, (res, p) in enumerate(zip(results, predict.predict(model[1], batch), strict=True)):
                if p.confidence < MIN_MODEL_CONFIDENCE or not any(len(t) > 1 for t in p.terms):
                    unsure.append(i)  # a text unlike every labelled class: the model only guesses
                    continue
                setattr(res, kind, Label(int(p.label), p.confidence, LabelSource.MODEL, model[0], p.terms))  # type: ignore[call-overload]
            if unsure:  # the keyword rules, or no label at all, rather than a guess
                for i, m in zip(unsure, rules.match([texts[i] for i in unsure], kind), strict=True):
                    if m.node_id is not None:
                        setattr(
                            results[i], kind, Label(m.node_id, m.confidence, LabelSource.RULE, None, m.terms)
                        )
    return results
