"""analyze() results as plain dicts (the analyze API and the try-it box on the models page)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kefu.voc.textmodels import Analysis, Label


def _label(label: Label, nodes: dict[int, tuple[str, str]]) -> dict[str, Any] | None:
    if label.node_id is None:
        return None
    name, path = nodes.get(label.node_id, ("", ""))
    return {
        "id": label.node_id,
        "name": name,
        "path": path,
        "confidence": round(label.confidence, 4),
        "source": label.source,
        "model_id": label.model_id,
        "terms": list(label.terms),
    }


def analyses_out(analyses: Sequence[Analysis]) -> list[dict[str, Any]]:
    from kefu.voc.models import TaxonomyNode
    from kefu.voc.selectors.taxonomy import display_name, node_paths

    ids = {a.cause.node_id for a in analyses} | {a.touchpoint.node_id for a in analyses}
    ids.discard(None)
    nodes: dict[int, tuple[str, str]] = {}
    if ids:
        paths = node_paths()
        for node in TaxonomyNode.objects.filter(pk__in=ids):
            nodes[node.pk] = (display_name(node), paths.get(node.pk, node.name))
    return [
        {
            "sentiment": round(a.sentiment, 4),
            "polarity": str(a.polarity),
            "sentiment_confidence": round(a.sentiment_confidence, 4),
            "sentiment_source": str(a.sentiment_source),
            "sentiment_model_id": a.sentiment_model_id,
            "terms": list(a.sentiment_terms),
            "cause": _label(a.cause, nodes),
            "touchpoint": _label(a.touchpoint, nodes),
        }
        for a in analyses
    ]
