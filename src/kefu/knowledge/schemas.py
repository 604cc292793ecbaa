"""The knowledge-base API's shapes."""

from __future__ import annotations

from datetime import datetime

from django.urls import reverse
from ninja import Schema
from pydantic import ConfigDict, Field

from kefu.knowledge.placeholders import unknown_placeholders


class ErrorOut(Schema):
    code: str
    message: str
    field: str | None = None


class KbRef(Schema):
    id: int
    name: str


class KbUserRef(Schema):
    id: int
    username: str
    name: str

    @staticmethod
    def resolve_name(obj) -> str:
        return str(obj)


class KbProductRef(Schema):
    id: int
    model_number: str
    name: str


class ArticleIn(Schema):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(..., max_length=200, examples=["制氧机噪音大怎么办"])
    body: str = Field("", description="Markdown (CommonMark and tables; raw HTML is not rendered)")
    variants: list[str] = Field(
        default_factory=list,
        description="other ways customers ask the same question (相似问法); at most 50 of 300 characters",
        examples=[["氧气机声音很响", "制氧机嗡嗡响正常吗"]],
    )
    category_id: int | None = None
    product_ids: list[int] = Field(default_factory=list)
    audience: str = Field("internal", description="internal (agents) or public (help center and bot)")
    status: str = Field("draft", description="draft or published")
    language: str = Field("zh-hans", description="zh-hans or en")


class ArticlePatchIn(Schema):
    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(None, max_length=200)
    body: str | None = None
    variants: list[str] | None = None
    category_id: int | None = None
    product_ids: list[int] | None = None
    audience: str | None = None
    status: str | None = Field(None, description="draft, published or archived (allowed transitions only)")
    language: str | None = None


class ArticleOut(Schema):
    id: int
    title: str
    slug: str
    body: str
    body_html: str = Field(..., description="the body rendered from Markdown and sanitized")
    variants: list[str]
    category: KbRef | None
    products: list[KbProductRef]
    audience: str
    status: str
    language: str
    version: int
    created_by: KbUserRef | None
    updated_by: KbUserRef | None
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None
    url: str

    @staticmethod
    def resolve_variants(obj) -> list[str]:
        return [v.text for v in obj.variants.all()]

    @staticmethod
    def resolve_products(obj) -> list:
        return list(obj.products.all())

    @staticmethod
    def resolve_url(obj) -> str:
        return reverse("knowledge:article_detail", args=[obj.pk])


class ArticleListItemOut(Schema):
    id: int
    title: str
    category: KbRef | None
    audience: str
    status: str
    language: str
    version: int
    updated_at: datetime
    published_at: datetime | None
    url: str

    @staticmethod
    def resolve_url(obj) -> str:
        return reverse("knowledge:article_detail", args=[obj.pk])


class ArticlePage(Schema):
    items: list[ArticleListItemOut]
    next_cursor: int | None = Field(None, description="pass as ?cursor= for the next page")


class VersionOut(Schema):
    version: int
    title: str
    body: str
    variants: list[str]
    status: str
    audience: str
    author: KbUserRef | None
    created_at: datetime


class VariantIn(Schema):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(..., max_length=300, examples=["制氧机晚上声音太大睡不着"])
    source: str = Field("editor", description="editor, bot_tuning or import")


class VariantOut(Schema):
    id: int
    article_id: int
    text: str
    source: str
    created_at: datetime


class AttachmentOut(Schema):
    id: int
    filename: str
    content_type: str
    size: int
    url: str
    markdown: str = Field(..., description="what to paste into the body: an image, or a link to the PDF")

    @staticmethod
    def resolve_url(obj) -> str:
        return reverse("knowledge:attachment", args=[obj.pk])

    @staticmethod
    def resolve_markdown(obj) -> str:
        from kefu.knowledge.services.attachments import attachment_markdown

        return attachment_markdown(obj)


class ReplyIn(Schema):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(..., max_length=200, examples=["噪音安抚"])
    body: str = Field(
        ...,
        description="the reply; placeholders: {customer.name}, {customer.phone}, {ticket.number}, "
        "{ticket.subject}, {agent.name}, {agent.team}, {today}",
        examples=["{customer.name}您好，制氧机运行时有轻微声音属正常现象……"],
    )
    team_id: int | None = Field(None, description="empty: shared by every team")
    category_id: int | None = None
    is_active: bool = True


class ReplyPatchIn(Schema):
    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(None, max_length=200)
    body: str | None = None
    team_id: int | None = None
    category_id: int | None = None
    is_active: bool | None = None


class ReplyOut(Schema):
    id: int
    title: str
    body: str
    team: KbRef | None
    category: KbRef | None
    is_active: bool
    usage_count: int
    created_at: datetime
    updated_at: datetime
    unknown_placeholders: list[str] = Field(
        ..., description="placeholders in the body that kefu does not fill (left as typed)"
    )

    @staticmethod
    def resolve_unknown_placeholders(obj) -> list[str]:
        return unknown_placeholders(obj.body)


class ReplyPage(Schema):
    items: list[ReplyOut]
    next_cursor: int | None = Field(None, description="pass as ?cursor= for the next page")


class SearchHitOut(Schema):
    kind: str = Field(..., description="article or reply")
    id: int
    title: str
    snippet: str = Field(..., description="escaped HTML; matched words in <mark>")
    score: float = Field(..., description="higher is better; comparable within one answer")
    url: str
