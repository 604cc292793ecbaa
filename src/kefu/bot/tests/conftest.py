"""Bot test scenery: published public articles made through the services (indexed after commit),
and a clean slate for the per-process caches (rate limits, the ranker's n-gram index)."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from kefu.accounts.tests.factories import TeamFactory, UserFactory
from kefu.knowledge import retrieval, search
from kefu.knowledge import services as kb_services


@pytest.fixture(autouse=True)
def _fresh_caches(monkeypatch):
    cache.clear()
    retrieval.clear_cache()
    monkeypatch.setattr(search, "DICTIONARY_CHECK_SECONDS", 0.0)
    yield
    retrieval.clear_cache()


@pytest.fixture
def editor():
    return UserFactory(username="editor", role="knowledge_editor")


@pytest.fixture
def agent():
    return UserFactory(username="agent", role="agent")


@pytest.fixture
def team():
    return TeamFactory(name="在线客服")


@pytest.fixture
def publish(editor, django_capture_on_commit_callbacks):
    """publish(title, body, variants=(), audience="public") → a published article, indexed."""

    def make(title, body, variants=(), audience="public"):
        with django_capture_on_commit_callbacks(execute=True):
            return kb_services.save_article(
                actor=editor,
                title=title,
                body=body,
                variants=list(variants),
                category_id=None,
                product_ids=[],
                audience=audience,
                status="published",
            )

    return make


@pytest.fixture
def handbook(publish):
    """A small public help center."""
    return {
        "noise": publish(
            "制氧机运行噪音大怎么办",
            "制氧机工作时压缩机会发出 45 分贝左右的声音，属于正常范围。请放在平整的地面上，清洗过滤棉。",
            ["制氧机声音很大", "制氧机晚上太吵睡不着", "制氧机嗡嗡响"],
        ),
        "refund": publish(
            "如何申请退款",
            "在订单详情页点击“申请退款”，选择原因并提交，审核通过后 1–3 个工作日原路退回。",
            ["怎么退钱", "退款多久到账", "我要退货退款"],
        ),
        "delivery": publish(
            "发货时间与物流查询",
            "付款后 48 小时内发货，发货后可在订单详情页查看物流单号和轨迹。",
            ["什么时候发货", "快递到哪了", "物流信息查不到"],
        ),
        "internal": publish(
            "内部：退款审批权限",
            "单笔退款 500 元以上需要组长审批。",
            ["退款审批"],
            audience="internal",
        ),
    }
