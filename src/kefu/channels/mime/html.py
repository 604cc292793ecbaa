"""HTML bodies: readable plain text (html_to_text) and safe HTML for display (sanitize_html)."""

from __future__ import annotations

import logging
import re
from copy import deepcopy
from html.parser import HTMLParser

import nh3

from kefu.channels.mime.headers import _CONTROL

logger = logging.getLogger(__name__)

# --------------------------------------------------------------------------------------------------
# HTML

_BLOCK_TAGS = {
    "address", "article", "aside", "blockquote", "center", "dd", "details", "dialog", "div", "dl", "dt",
    "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header",
    "hr", "li", "main", "nav", "ol", "p", "pre", "section", "summary", "table", "tbody", "thead", "tfoot",
    "tr", "ul", "caption",
}  # fmt: skip
_SKIP_TAGS = {"script", "style", "head", "title", "noscript", "template", "xml", "svg", "math", "object"}
_VOID_TAGS = {"br", "hr", "img", "meta", "link", "input", "area", "base", "col", "embed", "source", "wbr"}
_WS = re.compile(r"[ \t\n\r\f\v\xa0\u200b]+")


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip: list[str] = []
        self.pre = 0
        self.quote = 0
        self.lists: list[list[int]] = []  # [counter] for ol, [] for ul
        self.pending = 0  # newlines owed before the next text
        self.line_start = True
        self.last_space = False
        self.paragraph_gap = 2

    # output ---------------------------------------------------------------------------------------
    def _block(self, newlines: int = 1) -> None:
        self.pending = max(self.pending, newlines)

    def _flush(self) -> None:
        if self.pending and self.parts:
            for i in range(self.pending):
                self.parts.append("\n")
                if i < self.pending - 1 and self.quote:
                    self.parts.append(">" * self.quote)
            self.line_start = True
            self.last_space = False
        self.pending = 0

    def _emit(self, text: str) -> None:
        self._flush()
        if self.line_start:
            if self.quote:
                self.parts.append("> " * self.quote)
            self.line_start = False
        self.parts.append(text)
        self.last_space = text.endswith(" ")

    # parser callbacks ---------------------------------------------------------------------------------
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "body":
            self.skip = [t for t in self.skip if t not in ("head", "title")]
            return
        if tag in _SKIP_TAGS:
            self.skip.append(tag)
            return
        if self.skip:
            return
        if tag == "br":
            if self.parts:
                self.pending += 1
            return
        if tag == "pre":
            self.pre += 1
        if tag == "blockquote":
            self._block()
            self.quote += 1
            return
        if tag == "ol":
            self.lists.append([0])
        elif tag == "ul":
            self.lists.append([])
        if tag == "li":
            self._block()
            marker = "- "
            if self.lists and self.lists[-1]:
                self.lists[-1][0] += 1
                marker = f"{self.lists[-1][0]}. "
            self._emit(marker)
            return
        if tag in ("td", "th") and not self.line_start and not self.pending:
            if not self.last_space:
                self._emit(" ")
            return
        if tag == "p":
            # Outlook writes every line as <p class=MsoNormal>: no blank line between those
            classes = dict(attrs).get("class") or ""
            self.paragraph_gap = 1 if "msonormal" in classes.lower() else 2
            self._block(self.paragraph_gap)
            return
        if tag in _BLOCK_TAGS:
            self._block()

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID_TAGS:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            if tag in self.skip:
                while self.skip and self.skip.pop() != tag:
                    pass
            return
        if self.skip:
            return
        if tag == "pre":
            self.pre = max(0, self.pre - 1)
        if tag == "blockquote":
            self._block()
            self.quote = max(0, self.quote - 1)
            return
        if tag in ("ol", "ul") and self.lists:
            self.lists.pop()
        if tag == "p":
            self._block(self.paragraph_gap)
            return
        if tag in _BLOCK_TAGS:
            self._block()

    def handle_data(self, data: str) -> None:
        if self.skip or not data:
            return
        if self.pre:
            lines = data.replace("\r\n", "\n").split("\n")
            for i, line in enumerate(lines):
                if i:
                    self.pending += 1 if self.parts else 0
                if line:
                    self._emit(line.replace("\xa0", " "))
            return
        text = _WS.sub(" ", data)
        if not text.strip() and "\xa0" in data and self.pending and self.parts:
            self.pending += 1  # <p>&nbsp;</p>, <div>&nbsp;</div>: Outlook's and Foxmail's blank line
            return
        if self.line_start or self.pending or self.last_space:
            text = text.lstrip(" ")
        if text:
            self._emit(text)

    def result(self) -> str:
        text = "".join(self.parts)
        lines = [line.rstrip() for line in text.split("\n")]
        text = "\n".join(lines)
        text = re.sub(r"\n{3,}", "\n\n", text)
        return _CONTROL.sub("", text).strip("\n")


def html_to_text(html: str) -> str:
    """Readable plain text of an HTML body: block elements and <br> become newlines, entities are
    decoded, <style>/<script>/<head> dropped, <blockquote> lines prefixed with "> "."""
    if not html:
        return ""
    parser = _TextExtractor()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # HTMLParser is lenient; keep whatever was read
        logger.debug("html_to_text: parser gave up", exc_info=True)
    return parser.result()


_SANITIZE_TAGS = (set(nh3.ALLOWED_TAGS) | {"font"}) - {"area", "map"}
_SANITIZE_ATTRIBUTES: dict[str, set[str]] = deepcopy(nh3.ALLOWED_ATTRIBUTES)
for _tag, _attrs in {
    "*": {"title", "lang", "dir"},
    "a": {"title"},
    "font": {"color", "size", "face"},
    "table": {"width", "border", "cellpadding", "cellspacing", "bgcolor"},
    "td": {"width", "height", "valign", "bgcolor", "nowrap"},
    "th": {"width", "height", "valign", "bgcolor", "nowrap"},
    "tr": {"valign", "bgcolor"},
    "img": {"title"},
}.items():
    _SANITIZE_ATTRIBUTES.setdefault(_tag, set()).update(_attrs)
_SANITIZE_ATTRIBUTES.pop("area", None)
_SANITIZE_SCHEMES = {"http", "https", "mailto", "tel", "cid"}
_SANITIZE_DROP_CONTENT = {"script", "style", "title", "noscript", "template", "xml", "iframe", "object"}
_IMG_WITHOUT_SRC = re.compile(r"<img\b(?![^>]*\ssrc=)[^>]*>", re.IGNORECASE)


def _attribute_filter(tag: str, attr: str, value: str) -> str | None:
    if attr == "src":
        # images only from the mail itself: nothing may load from the internet (tracking pixels)
        return value if value.strip().lower().startswith("cid:") else None
    if attr == "href" and value.strip().lower().startswith("cid:"):
        return None
    return value


def sanitize_html(html: str) -> str:
    """Safe HTML for showing a mail: allow-listed tags and attributes, no scripts, styles or event
    handlers; <img> kept only with a cid: source; links get rel="noopener noreferrer"."""
    if not html or not html.strip():
        return ""
    try:
        cleaned = nh3.clean(
            html,
            tags=_SANITIZE_TAGS,
            clean_content_tags=_SANITIZE_DROP_CONTENT,
            attributes=_SANITIZE_ATTRIBUTES,
            attribute_filter=_attribute_filter,
            url_schemes=_SANITIZE_SCHEMES,
            link_rel="noopener noreferrer",
            set_tag_attribute_values={"a": {"target": "_blank"}},
            strip_comments=True,
        )
    except Exception:  # pragma: no cover - nh3 does not raise on HTML; be safe anyway
        logger.warning("sanitize_html failed", exc_info=True)
        return ""
    return _IMG_WITHOUT_SRC.sub("", cleaned).strip()
