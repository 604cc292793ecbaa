"""Knowledge-base scenery. Articles made here bypass the services (no versions, no audit events, not
indexed): use kefu.knowledge.services where behaviour matters."""

from __future__ import annotations

import factory
from django.utils import timezone

from kefu.knowledge.models import Article, ArticleCategory, StandardReply


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ArticleCategory

    name = factory.Sequence(lambda n: f"分类{n}")


class ArticleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Article

    title = factory.Sequence(lambda n: f"文章{n}")
    body = "正文"
    body_html = "<p>正文</p>"
    status = "published"
    audience = "internal"
    created_at = factory.LazyFunction(timezone.now)
    updated_at = factory.LazyFunction(timezone.now)


class ReplyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StandardReply

    title = factory.Sequence(lambda n: f"话术{n}")
    body = "{customer.name}您好"
    created_at = factory.LazyFunction(timezone.now)
    updated_at = factory.LazyFunction(timezone.now)


def article_fields(**overrides):
    """Keyword arguments for services.save_article: an internal draft."""
    fields = {
        "title": "制氧机噪音大怎么办",
        "body": "## 原因\n\n压缩机运行有声音属正常。",
        "variants": ["氧气机声音很响", "制氧机嗡嗡响正常吗"],
        "category_id": None,
        "product_ids": [],
        "audience": "internal",
        "status": "draft",
        "language": "zh-hans",
    }
    fields.update(overrides)
    return fields
