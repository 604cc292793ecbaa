"""Article services: validation with named fields, versions with snapshots and a readable diff,
status transitions, variants added by bot tuning, sanitized Markdown, files, and the search
dictionary (words and synonyms)."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from kefu.accounts.tests.factories import UserFactory
from kefu.audit.models import AuditEvent
from kefu.core.errors import (
    InvalidTransition,
    LimitExceeded,
    NotFound,
    PermissionDenied,
    UnsupportedMediaType,
    ValidationFailed,
)
from kefu.customers.tests.factories import ProductFactory
from kefu.knowledge import selectors, services
from kefu.knowledge.markdown import render_markdown
from kefu.knowledge.models import ArticleVariant, DictionaryWord, SynonymGroup
from kefu.knowledge.tests.factories import CategoryFactory, article_fields

pytestmark = pytest.mark.django_db

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4"
    b"\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)


@pytest.fixture
def editor():
    return UserFactory(username="editor", role="knowledge_editor")


@pytest.fixture
def agent():
    return UserFactory(username="agent", role="agent")


def verbs(article) -> list[str]:
    return list(
        AuditEvent.objects.filter(subject_type="article", subject_id=article.pk)
        .order_by("id")
        .values_list("verb", flat=True)
    )


# --- creating and validating ------------------------------------------------------------------------


def test_creating_an_article_renders_the_body_and_stores_version_one(editor):
    # given a product and a category
    product = ProductFactory(model_number="Y-5")
    category = CategoryFactory(name="制氧机")
    # when the editor saves a published article
    with time_machine.travel(datetime(2026, 3, 2, 9, 0, tzinfo=UTC), tick=False):
        article = services.save_article(
            actor=editor,
            **article_fields(
                status="published", product_ids=[product.pk], category_id=category.pk, audience="public"
            ),
        )
    # then it is version 1 with a snapshot, rendered HTML, a readable slug and a publication time
    article.refresh_from_db()
    assert article.version == 1
    assert article.slug == "制氧机噪音大怎么办"
    assert "<h2>原因</h2>" in article.body_html
    assert article.published_at == datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    assert list(article.products.all()) == [product]
    assert [v.text for v in article.variants.all()] == ["氧气机声音很响", "制氧机嗡嗡响正常吗"]
    v1 = article.versions.get()
    assert (v1.version, v1.title, v1.status, v1.audience, v1.author) == (
        1,
        article.title,
        "published",
        "public",
        editor,
    )
    assert v1.variants == ["氧气机声音很响", "制氧机嗡嗡响正常吗"]
    # and the audit trail says it was created and published, carrying the article's id
    assert verbs(article) == ["article.created", "article.published"]
    event = AuditEvent.objects.filter(verb="article.created").get()
    assert event.data["article_id"] == article.pk
    assert event.actor == editor
    assert event.text == "文章 制氧机噪音大怎么办 已创建"  # rendered in the reader's language (zh-hans)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"title": "  "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": "两行\n标题"}, "title"),
        ({"variants": [f"问法{n}" for n in range(51)]}, "variants"),
        ({"variants": ["问" * 301]}, "variants"),
        ({"variants": "不是列表"}, "variants"),
        ({"category_id": 999999}, "category_id"),
        ({"product_ids": [999999]}, "product_ids"),
        ({"audience": "everyone"}, "audience"),
        ({"status": "live"}, "status"),
        ({"status": "archived"}, "status"),
        ({"language": "fr"}, "language"),
        ({"body": "a\x00b"}, "body"),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_writes_nothing(editor, overrides, field):
    # when the editor saves an article with one bad value
    with pytest.raises(ValidationFailed) as exc:
        services.save_article(actor=editor, **article_fields(**overrides))
    # then the error names the field, and nothing is stored
    assert exc.value.field == field
    assert not AuditEvent.objects.exists()
    assert not ArticleVariant.objects.exists()


def test_variants_are_trimmed_deduplicated_and_at_most_fifty(editor):
    # when variants repeat with other case and spacing, or are blank
    article = services.save_article(
        actor=editor,
        **article_fields(
            variants=["  氧气机 声音  很响 ", "氧气机 声音 很响", "", "Noise", "noise", *["x"] * 3]
        ),
    )
    # then each question is kept once, trimmed
    assert [v.text for v in article.variants.all()] == ["氧气机 声音 很响", "Noise", "x"]
    # and exactly fifty distinct ones are accepted
    services.save_article(
        actor=editor, article_id=article.pk, **article_fields(variants=[f"问法{n}" for n in range(50)])
    )
    assert article.variants.count() == 50


def test_agents_may_not_write_articles(agent):
    with pytest.raises(PermissionDenied):
        services.save_article(actor=agent, **article_fields())


# --- versions and diffs ----------------------------------------------------------------------------


def test_every_change_is_a_new_version_and_an_unchanged_save_is_not(editor):
    # given an article at version 1
    article = services.save_article(actor=editor, **article_fields())
    # when the editor saves it unchanged
    same = services.save_article(actor=editor, article_id=article.pk, **article_fields())
    # then nothing happens
    assert same.version == 1
    assert verbs(article) == ["article.created"]
    # when the title, body and variants change
    other = UserFactory(username="editor2", role="knowledge_editor")
    changed = services.save_article(
        actor=other,
        article_id=article.pk,
        **article_fields(
            title="制氧机噪音大",
            body="## 原因\n\n压缩机运行有声音属正常。\n\n## 处理\n\n放平机器。",
            variants=["氧气机声音很响", "晚上太吵睡不着"],
        ),
    )
    # then version 2 is stored with its author, the slug follows the title, the HTML is re-rendered
    assert changed.version == 2
    assert changed.slug == "制氧机噪音大"
    assert "<h2>处理</h2>" in changed.body_html
    v2 = changed.versions.get(version=2)
    assert v2.author == other and v2.variants == ["氧气机声音很响", "晚上太吵睡不着"]
    assert changed.versions.get(version=1).title == "制氧机噪音大怎么办"
    # the variant kept keeps its row, the removed one is gone
    assert set(changed.variants.values_list("text", flat=True)) == {"氧气机声音很响", "晚上太吵睡不着"}
    event = AuditEvent.objects.filter(verb="article.updated").get()
    assert set(event.data["fields"]) == {"title", "body", "variants"}
    assert event.data["article_id"] == article.pk and event.data["version"] == 2


def test_the_diff_shows_title_variants_and_body_line_by_line(editor):
    # given two versions of an article
    article = services.save_article(actor=editor, **article_fields(body="第一行\n第二行\n第三行"))
    services.save_article(
        actor=editor,
        article_id=article.pk,
        **article_fields(
            title="新标题", body="第一行\n第二行改了\n第三行", variants=["氧气机声音很响", "新问法"]
        ),
    )
    # when the versions are compared
    lines = selectors.article_diff(article, 1, 2)
    # then each changed part has a section with removed and added lines, and unchanged context
    sections = [line.text for line in lines if line.kind == "section"]
    assert sections == ["标题", "相似问法", "正文"]
    assert ("remove", "制氧机噪音大怎么办") in [(line.kind, line.text) for line in lines]
    assert ("add", "新标题") in [(line.kind, line.text) for line in lines]
    body = lines[[line.text for line in lines].index("正文") :]
    assert [(line.kind, line.text) for line in body if line.kind != "hunk"] == [
        ("section", "正文"),
        ("same", "第一行"),
        ("remove", "第二行"),
        ("add", "第二行改了"),
        ("same", "第三行"),
    ]
    assert ("remove", "制氧机嗡嗡响正常吗") in [(line.kind, line.text) for line in lines]
    assert ("add", "新问法") in [(line.kind, line.text) for line in lines]
    # and the same version, or an unknown one
    assert selectors.article_diff(article, 2, 2) == []
    with pytest.raises(NotFound):
        selectors.article_diff(article, 1, 7)


# --- status ----------------------------------------------------------------------------------------


def test_status_moves_draft_published_archived_and_back_to_draft(editor):
    article = services.save_article(actor=editor, **article_fields())
    # when it is published, the first publication time is kept
    with time_machine.travel(datetime(2026, 3, 2, 9, 0, tzinfo=UTC), tick=False):
        article = services.set_article_status(actor=editor, article_id=article.pk, status="published")
    assert (article.status, article.version) == ("published", 2)
    first = article.published_at
    # archived, then it may not be published directly
    article = services.set_article_status(actor=editor, article_id=article.pk, status="archived")
    with pytest.raises(InvalidTransition) as exc:
        services.set_article_status(actor=editor, article_id=article.pk, status="published")
    assert exc.value.extra["allowed"] == ["draft"]
    # back to draft, then published again: published_at stays the first time
    services.set_article_status(actor=editor, article_id=article.pk, status="draft")
    article = services.set_article_status(actor=editor, article_id=article.pk, status="published")
    assert article.published_at == first
    assert article.version == 5
    assert [v.status for v in article.versions.order_by("version")] == [
        "draft",
        "published",
        "archived",
        "draft",
        "published",
    ]
    assert verbs(article) == [
        "article.created",
        "article.published",
        "article.archived",
        "article.updated",
        "article.published",
    ]
    # the same status again is a no-op
    assert services.set_article_status(actor=editor, article_id=article.pk, status="published").version == 5


def test_an_archived_article_cannot_be_published_through_save_either(editor):
    article = services.save_article(actor=editor, **article_fields(status="published"))
    services.set_article_status(actor=editor, article_id=article.pk, status="archived")
    with pytest.raises(InvalidTransition):
        services.save_article(actor=editor, article_id=article.pk, **article_fields(status="published"))


# --- variants from bot tuning ------------------------------------------------------------------------


def test_add_variant_makes_a_version_and_is_idempotent(editor):
    article = services.save_article(actor=editor, **article_fields())
    # when bot tuning adds a customer's question
    variant = services.add_variant(
        actor=editor, article_id=article.pk, text=" 制氧机晚上 声音太大 ", source="bot_tuning"
    )
    # then it is a variant from bot tuning, in a new version
    article.refresh_from_db()
    assert (variant.text, variant.source, article.version) == ("制氧机晚上 声音太大", "bot_tuning", 2)
    assert article.versions.get(version=2).variants[-1] == "制氧机晚上 声音太大"
    event = AuditEvent.objects.filter(verb="article.variant_added").get()
    assert event.data["article_id"] == article.pk and event.data["text"] == "制氧机晚上 声音太大"
    # when the same question comes again (other spacing), nothing changes
    again = services.add_variant(
        actor=editor, article_id=article.pk, text="制氧机晚上  声音太大", source="bot_tuning"
    )
    article.refresh_from_db()
    assert again.pk == variant.pk and article.version == 2
    assert AuditEvent.objects.filter(verb="article.variant_added").count() == 1


def test_add_variant_checks_text_and_article(editor, agent):
    article = services.save_article(actor=editor, **article_fields())
    with pytest.raises(ValidationFailed) as exc:
        services.add_variant(actor=editor, article_id=article.pk, text="")
    assert exc.value.field == "text"
    with pytest.raises(ValidationFailed):
        services.add_variant(actor=editor, article_id=article.pk, text="问", source="robot")
    with pytest.raises(NotFound):
        services.add_variant(actor=editor, article_id=999999, text="问")
    with pytest.raises(PermissionDenied):
        services.add_variant(actor=agent, article_id=article.pk, text="问")


# --- sanitized Markdown --------------------------------------------------------------------------------


def test_markdown_is_rendered_without_scripts_event_handlers_or_javascript_links():
    html = render_markdown(
        "# 标题\n\n<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n"
        "[点我](javascript:alert(1)) [官网](https://example.com) [电话](tel:400-800-1234)\n\n"
        "| 型号 | 噪音 |\n|---|---|\n| Y-5 | 45dB |\n"
    )
    assert "<h1>标题</h1>" in html
    # raw HTML is shown as text, never as a tag; a javascript: link stays plain text
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;" in html
    assert 'href="javascript' not in html and html.count("<a ") == 2
    assert '<a href="https://example.com" rel="noopener noreferrer">官网</a>' in html
    assert '<a href="tel:400-800-1234" rel="noopener noreferrer">电话</a>' in html
    assert '<table class="table table-sm table-bordered">' in html and "<td>45dB</td>" in html


def test_images_only_from_our_attachments_or_relative_paths():
    html = render_markdown(
        "![ours](/kb/attachments/3/) ![rel](images/a.png) ![tracker](https://evil.example/p.gif) "
        "![proto](//evil.example/p.gif) ![site](/admin/logo.png) ![data](data:image/png;base64,AAAA) "
        "![slash](/\\evil.example/p.png)"
    )
    assert '<img src="/kb/attachments/3/" alt="ours"' in html
    assert '<img src="images/a.png" alt="rel"' in html
    assert html.count("<img") == 2
    # the others become their alt text
    for alt in ("tracker", "proto", "site", "data", "slash"):
        assert alt in html
    assert "evil.example" not in html


# --- files ---------------------------------------------------------------------------------------------


def upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


def test_images_and_pdfs_are_stored_once_and_others_refused(editor):
    article = services.save_article(actor=editor, **article_fields())
    # when an image is uploaded (under a misleading name), its type comes from the content
    att = services.upload_article_attachment(actor=editor, article_id=article.pk, file=upload("a.exe", PNG))
    assert (att.content_type, att.size, att.filename) == ("image/png", len(PNG), "a.exe")
    assert services.attachment_markdown(att) == f"![a.exe](/kb/attachments/{att.pk}/)"
    # the same file again is the same attachment
    again = services.upload_article_attachment(actor=editor, article_id=article.pk, file=upload("b.png", PNG))
    assert again.pk == att.pk
    pdf = services.upload_article_attachment(
        actor=editor,
        article_id=article.pk,
        file=upload("说明书.pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n"),
    )
    assert pdf.content_type == "application/pdf"
    assert services.attachment_markdown(pdf) == f"[说明书.pdf](/kb/attachments/{pdf.pk}/)"
    assert AuditEvent.objects.filter(verb="article.attachment_added").count() == 2
    # a script or an HTML file is refused, as is anything over 10 MB or empty
    with pytest.raises(UnsupportedMediaType):
        services.upload_article_attachment(
            actor=editor, article_id=article.pk, file=upload("x.png", b"<html><script>1</script>")
        )
    with pytest.raises(LimitExceeded):
        big = SimpleUploadedFile("big.png", PNG + b"\0" * (10 * 1024 * 1024))
        services.upload_article_attachment(actor=editor, article_id=article.pk, file=big)
    with pytest.raises(ValidationFailed):
        services.upload_article_attachment(actor=editor, article_id=article.pk, file=upload("e.png", b""))


def test_files_are_served_to_who_may_read_the_article(editor, agent):
    # given an image on an internal draft
    article = services.save_article(actor=editor, **article_fields())
    att = services.upload_article_attachment(actor=editor, article_id=article.pk, file=upload("a.png", PNG))
    url = f"/kb/attachments/{att.pk}/"
    editor_client = Client()
    editor_client.force_login(editor)
    agent_client = Client()
    agent_client.force_login(agent)
    # the editor gets it, never sniffed by the browser
    response = editor_client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == PNG
    # agents do not see drafts, visitors do not see internal articles
    assert agent_client.get(url).status_code == 404
    assert Client().get(url).status_code == 404
    # once published, agents see it; once public too, anyone (the help center shows it)
    services.set_article_status(actor=editor, article_id=article.pk, status="published")
    assert agent_client.get(url).status_code == 200
    assert Client().get(url).status_code == 404
    services.save_article(
        actor=editor, article_id=article.pk, **article_fields(status="published", audience="public")
    )
    assert Client().get(url).status_code == 200


def test_pdfs_download_instead_of_opening_inline(editor):
    article = services.save_article(actor=editor, **article_fields(status="published", audience="public"))
    pdf = services.upload_article_attachment(
        actor=editor, article_id=article.pk, file=io.BytesIO(b"%PDF-1.4\n1 0 obj\n")
    )
    response = Client().get(f"/kb/attachments/{pdf.pk}/")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")


# --- dictionary and synonyms ------------------------------------------------------------------------------


def test_dictionary_words_are_audited_and_checked(editor, agent):
    word = services.add_dictionary_word(actor=editor, word=" 分子筛 ", kind="product")
    assert (word.word, word.kind) == ("分子筛", "product")
    # the same word again changes nothing
    assert services.add_dictionary_word(actor=editor, word="分子筛", kind="product").pk == word.pk
    with pytest.raises(ValidationFailed) as exc:
        services.add_dictionary_word(actor=editor, word="两个 词")
    assert exc.value.field == "word"
    with pytest.raises(PermissionDenied):
        services.add_dictionary_word(actor=agent, word="湿化瓶")
    services.remove_dictionary_word(actor=editor, word_id=word.pk)
    assert not DictionaryWord.objects.exists()
    assert list(AuditEvent.objects.order_by("id").values_list("verb", "data__word")) == [
        ("kb.word_added", "分子筛"),
        ("kb.word_removed", "分子筛"),
    ]


def test_synonym_groups_need_two_words_and_a_word_is_in_one_group(editor):
    group = services.save_synonym_group(actor=editor, terms="制氧机，氧气机、吸氧机, 制氧机")
    assert group.term_list == ["制氧机", "氧气机", "吸氧机"]
    with pytest.raises(ValidationFailed) as exc:
        services.save_synonym_group(actor=editor, terms=["氧气机", "供氧机"])
    assert "氧气机" in exc.value.message and exc.value.field == "terms"
    with pytest.raises(ValidationFailed):
        services.save_synonym_group(actor=editor, terms="退款")
    # the group itself may be changed
    group = services.save_synonym_group(actor=editor, group_id=group.pk, terms=["制氧机", "氧气机"])
    assert group.terms == "制氧机,氧气机"
    services.delete_synonym_group(actor=editor, group_id=group.pk)
    assert not SynonymGroup.objects.exists()
    assert list(AuditEvent.objects.order_by("id").values_list("verb", flat=True)) == [
        "kb.synonyms_saved",
        "kb.synonyms_saved",
        "kb.synonyms_deleted",
    ]


def test_the_sanitizer_strips_handlers_scripts_and_foreign_images_even_from_raw_html():
    from kefu.knowledge.markdown import sanitize_html

    html = sanitize_html(
        '<img src="/kb/attachments/1/" onerror="alert(1)"><script>alert(2)</script>'
        '<a href="javascript:alert(3)" onclick="x()">k</a><img src="https://evil.example/x.gif">'
        '<iframe src="https://evil.example"></iframe><p style="position:fixed">p</p>'
    )
    assert "onerror" not in html and "onclick" not in html and "script" not in html
    assert "javascript" not in html and "evil.example" not in html and "style" not in html
    assert '<img src="/kb/attachments/1/"' in html and "<p>p</p>" in html
