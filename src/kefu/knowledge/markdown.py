"""Article bodies: Markdown (CommonMark + tables, raw HTML off) rendered to HTML, then sanitized with
nh3. Images may only come from kefu's own article attachments (/kb/attachments/…) or relative paths;
any other image becomes its alt text. Links keep http(s), mailto and tel targets and get
rel="noopener noreferrer"."""

from __future__ import annotations

from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token

ATTACHMENT_PREFIX = "/kb/attachments/"

TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "em", "strong", "code", "pre", "blockquote",
    "ul", "ol", "li", "a", "img", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "ol": {"start"}}
URL_SCHEMES = {"http", "https", "mailto", "tel"}
# Bootstrap classes so images fit their column and tables look like the rest of kefu
ADDED_ATTRIBUTES = {
    "img": {"class": "img-fluid", "loading": "lazy"},
    "table": {"class": "table table-sm table-bordered"},
}


def allowed_image_src(src: str) -> bool:
    """Our own attachment URLs and relative paths ("images/a.png"); nothing with a scheme or a host,
    nor site paths elsewhere."""
    src = (src or "").strip()
    if not src or "\\" in src or src.startswith("//") or any(ord(ch) < 33 for ch in src):
        return False
    try:
        parts = urlsplit(src)
    except ValueError:
        return False
    if parts.scheme or parts.netloc:
        return False
    return parts.path.startswith(ATTACHMENT_PREFIX) or not parts.path.startswith("/")


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False}).enable("table")


def _drop_foreign_images(tokens: list[Token]) -> None:
    """An image from elsewhere becomes its alt text (tracking pixels and mixed content never load)."""
    for token in tokens:
        if not token.children:
            continue
        for i, child in enumerate(token.children):
            if child.type == "image" and not allowed_image_src(str(child.attrGet("src") or "")):
                text = Token("text", "", 0)
                text.content = child.content or ""
                token.children[i] = text


def _attribute_filter(tag: str, attribute: str, value: str) -> str | None:
    if tag == "img" and attribute == "src" and not allowed_image_src(value):
        return None
    return value


def sanitize_html(html: str) -> str:
    return nh3.clean(
        html,
        tags=TAGS,
        clean_content_tags={"script", "style"},
        attributes={tag: set(attrs) for tag, attrs in ATTRIBUTES.items()},
        attribute_filter=_attribute_filter,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
        set_tag_attribute_values={tag: dict(values) for tag, values in ADDED_ATTRIBUTES.items()},
    )


def render_markdown(text: str) -> str:
    """Markdown → safe HTML (an article's body_html)."""
    md = _parser()
    env: dict[str, Any] = {}
    tokens = md.parse(text or "", env)
    _drop_foreign_images(tokens)
    return sanitize_html(md.renderer.render(tokens, md.options, env))
