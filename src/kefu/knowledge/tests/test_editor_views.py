"""The knowledge-base console pages: editors write articles, replies, dictionary words and synonyms
with plain POSTs; bad input re-renders the form with the message next to the field; agents read but
get no edit buttons and a 403 page on edit pages."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from kefu.accounts.tests.factories import DepartmentFactory, TeamFactory, UserFactory
from kefu.audit.models import AuditEvent
from kefu.knowledge import services
from kefu.knowledge.models import Article, DictionaryWord, StandardReply, SynonymGroup
from kefu.knowledge.tests.factories import ArticleFactory, CategoryFactory, article_fields

pytestmark = pytest.mark.django_db


def signed_in(user, language="en") -> Client:
    c = Client(HTTP_ACCEPT_LANGUAGE=language)
    c.force_login(user)
    return c


def text(response) -> str:
    return response.content.decode()


@pytest.fixture
def team():
    return TeamFactory(name="售后一组", department=DepartmentFactory())


@pytest.fixture
def editor():
    return UserFactory(username="editor", role="knowledge_editor")


@pytest.fixture
def agent(team):
    return UserFactory(username="agent", role="agent", teams=[team])


@pytest.fixture
def published(editor):
    return services.save_article(
        actor=editor,
        **article_fields(status="published", body="## 原因\n\n压缩机<script>x</script>有声音。"),
    )


def article_post(**overrides):
    data = {
        "title": "滤网多久换一次",
        "body": "每 **两周** 清洗一次。",
        "variants": "过滤棉多久换\n滤网怎么清洗\n",
        "category": "",
        "audience": "public",
        "status": "draft",
        "language": "zh-hans",
    }
    data.update(overrides)
    return data


# --- articles ------------------------------------------------------------------------------------------


def test_an_editor_writes_publishes_and_compares_versions(editor):
    client = signed_in(editor)
    category = CategoryFactory(name="保养")
    # the list offers a new article
    r = client.get(reverse("knowledge:article_list"))
    assert r.status_code == 200 and 'data-testid="article-new"' in text(r)
    assert client.get(reverse("knowledge:article_new")).status_code == 200
    # when the editor saves a new article
    r = client.post(reverse("knowledge:article_new"), article_post(category=str(category.pk)))
    article = Article.objects.get()
    assert r.status_code == 302 and r["Location"] == reverse("knowledge:article_detail", args=[article.pk])
    assert [v.text for v in article.variants.all()] == ["过滤棉多久换", "滤网怎么清洗"]
    assert article.category == category and article.audience == "public"
    # its page shows the rendered body, the variants and the status actions
    r = client.get(r["Location"])
    page = text(r)
    assert "<strong>两周</strong>" in page and "过滤棉多久换" in page
    assert 'data-testid="status-published"' in page and 'data-testid="article-edit"' in page
    # publishing from the page
    r = client.post(reverse("knowledge:article_status", args=[article.pk]), {"status": "published"})
    assert r.status_code == 302
    article.refresh_from_db()
    assert article.status == "published" and article.version == 2
    # the edit page is prefilled; a change makes version 3
    r = client.get(reverse("knowledge:article_edit", args=[article.pk]))
    assert r.status_code == 200 and "过滤棉多久换\n滤网怎么清洗" in text(r)
    r = client.post(
        reverse("knowledge:article_edit", args=[article.pk]),
        article_post(
            title="滤网多久更换一次", status="published", body="每 **两周** 清洗一次。\n\n每半年更换。"
        ),
    )
    assert r.status_code == 302
    article.refresh_from_db()
    assert article.version == 3
    # the versions page shows the diff of the last two versions by default
    r = client.get(reverse("knowledge:article_versions", args=[article.pk]))
    page = text(r)
    assert r.status_code == 200
    assert page.count('data-testid="version-row"') == 3
    assert 'data-testid="diff-remove"' in page and "滤网多久换一次" in page and "每半年更换。" in page
    # and any two versions on request
    r = client.get(reverse("knowledge:article_versions", args=[article.pk]), {"from": 1, "to": 2})
    assert "Draft" in text(r) and "Published" in text(r)
    r = client.get(reverse("knowledge:article_versions", args=[article.pk]), {"from": 1, "to": 9})
    assert r.status_code == 400 and 'data-testid="diff-error"' in text(r)


def test_bad_input_rerenders_the_form_with_the_message_and_saves_nothing(editor):
    client = signed_in(editor)
    r = client.post(reverse("knowledge:article_new"), article_post(title=""))
    assert r.status_code == 422 and 'data-testid="error-title"' in text(r)
    long_variants = "\n".join(f"问法{n}" for n in range(51))
    r = client.post(reverse("knowledge:article_new"), article_post(variants=long_variants))
    assert r.status_code == 422 and 'data-testid="error-variants"' in text(r)
    assert "At most 50 question variants" in text(r)
    assert not Article.objects.exists()


def test_the_article_body_is_sanitized_on_the_page(editor, published):
    r = signed_in(editor).get(reverse("knowledge:article_detail", args=[published.pk]))
    page = text(r)
    assert "<h2>原因</h2>" in page
    assert "<script>x</script>" not in page and "&lt;script&gt;x&lt;/script&gt;" in page


def test_agents_read_published_articles_without_edit_buttons_and_get_403_on_edit_pages(
    agent, editor, published
):
    draft = services.save_article(actor=editor, **article_fields(title="草稿"))
    client = signed_in(agent)
    # the list shows published articles and no "new" button
    r = client.get(reverse("knowledge:article_list"))
    assert r.status_code == 200
    assert published.title in text(r) and "草稿" not in text(r)
    assert 'data-testid="article-new"' not in text(r)
    # an article reads without edit or status buttons
    r = client.get(reverse("knowledge:article_detail", args=[published.pk]))
    assert r.status_code == 200
    assert 'data-testid="article-edit"' not in text(r) and 'data-testid="status-archived"' not in text(r)
    assert client.get(reverse("knowledge:article_versions", args=[published.pk])).status_code == 200
    # edit pages are refused with the 403 page, drafts are not found
    for url in (
        reverse("knowledge:article_new"),
        reverse("knowledge:article_edit", args=[published.pk]),
        reverse("knowledge:dictionary"),
        reverse("knowledge:synonyms"),
        reverse("knowledge:reply_new"),
    ):
        r = client.get(url)
        assert r.status_code == 403 and 'data-testid="denied"' in text(r), url
    r = client.post(reverse("knowledge:article_status", args=[published.pk]), {"status": "archived"})
    assert r.status_code == 403
    assert client.get(reverse("knowledge:article_detail", args=[draft.pk])).status_code == 404
    published.refresh_from_db()
    assert published.status == "published"


def test_the_nav_links_the_knowledge_base(agent):
    r = signed_in(agent).get(reverse("knowledge:article_list"))
    assert f'href="{reverse("knowledge:article_list")}" aria-current="page">Knowledge<' in text(r)


def test_visitors_are_sent_to_sign_in(published):
    r = Client().get(reverse("knowledge:article_list"))
    assert r.status_code == 302 and "/login/" in r["Location"]


def test_the_list_filters_and_searches(editor, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        noise = services.save_article(actor=editor, **article_fields(status="published"))
        services.save_article(
            actor=editor, **article_fields(title="退款多久到账", body="退款三个工作日内原路退回。")
        )
    client = signed_in(editor)
    r = client.get(reverse("knowledge:article_list"), {"status": "draft"})
    assert "退款多久到账" in text(r) and noise.title not in text(r)
    # the search box uses the full-text search, with highlighted snippets
    r = client.get(reverse("knowledge:article_list"), {"q": "退款"})
    assert "退款多久到账" in text(r) and noise.title not in text(r)
    assert "<mark>" in text(r)
    # an htmx request gets only the results
    r = client.get(
        reverse("knowledge:article_list"), {"q": "噪音"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="kb-results"
    )
    assert text(r).startswith('<div id="kb-results"') and noise.title in text(r)


def test_the_list_page_queries_are_bounded(editor, django_assert_max_num_queries):
    category = CategoryFactory()
    for n in range(30):
        ArticleFactory(title=f"文章{n}", category=category, updated_by=editor)
    client = signed_in(editor)
    client.get(reverse("knowledge:article_list"))
    with django_assert_max_num_queries(12):
        r = client.get(reverse("knowledge:article_list"))
    assert text(r).count('data-testid="article-row"') == 30


def test_uploading_an_image_on_the_edit_page(editor):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from kefu.knowledge.tests.test_articles import PNG

    article = services.save_article(actor=editor, **article_fields())
    client = signed_in(editor)
    url = reverse("knowledge:article_upload", args=[article.pk])
    r = client.post(url, {"file": SimpleUploadedFile("图.png", PNG)})
    assert r.status_code == 302
    att = article.attachments.get()
    r = client.get(reverse("knowledge:article_edit", args=[article.pk]))
    assert f"![图.png](/kb/attachments/{att.pk}/)" in text(r)
    r = client.post(url, {"file": SimpleUploadedFile("a.txt", b"just text")})
    assert r.status_code == 415 and 'data-testid="error-file"' in text(r)


# --- standard replies ---------------------------------------------------------------------------------------


def test_an_editor_writes_a_reply_with_the_placeholder_help(editor):
    client = signed_in(editor)
    r = client.get(reverse("knowledge:reply_new"))
    assert r.status_code == 200 and "{customer.name}" in text(r) and "{ticket.number}" in text(r)
    r = client.post(
        reverse("knowledge:reply_new"),
        {
            "title": "问候",
            "body": "{customer.name}您好，{order.id}",
            "team": "",
            "category": "",
            "is_active": "on",
        },
    )
    reply = StandardReply.objects.get()
    assert r.status_code == 302 and reply.team is None and reply.is_active
    r = client.get(r["Location"], follow=True)
    assert "{order.id}" in text(r) and 'data-testid="unknown-placeholders"' in text(r)
    r = client.post(reverse("knowledge:reply_new"), {"title": "", "body": ""})
    assert r.status_code == 422 and 'data-testid="error-title"' in text(r)
    r = client.post(reverse("knowledge:reply_delete", args=[reply.pk]))
    assert r.status_code == 302 and not StandardReply.objects.exists()


def test_a_supervisor_edits_their_teams_replies_only(team, editor):
    supervisor = UserFactory(username="lead", role="supervisor", teams=[team])
    other = TeamFactory(name="售后二组", department=team.department)
    own = services.save_reply(actor=editor, title="本组", body="您好", team_id=team.pk)
    shared = services.save_reply(actor=editor, title="共享", body="您好", team_id=None)
    services.save_reply(actor=editor, title="他组", body="您好", team_id=other.pk)
    client = signed_in(supervisor)
    r = client.get(reverse("knowledge:reply_list"))
    assert r.status_code == 200
    assert text(r).count('data-testid="reply-edit"') == 1
    # the form offers only their teams, no "shared"
    r = client.get(reverse("knowledge:reply_edit", args=[own.pk]))
    assert r.status_code == 200 and "Shared by every team" not in text(r)
    r = client.post(
        reverse("knowledge:reply_edit", args=[own.pk]),
        {"title": "本组2", "body": "您好", "team": str(team.pk), "is_active": "on"},
    )
    assert r.status_code == 302
    assert client.get(reverse("knowledge:reply_edit", args=[shared.pk])).status_code == 403
    assert client.post(reverse("knowledge:reply_delete", args=[shared.pk])).status_code == 403
    assert StandardReply.objects.filter(pk=shared.pk).exists()


def test_agents_read_replies_without_edit_buttons(agent, editor, team):
    reply = services.save_reply(actor=editor, title="本组", body="{customer.name}您好", team_id=team.pk)
    client = signed_in(agent)
    r = client.get(reverse("knowledge:reply_list"))
    assert r.status_code == 200 and "本组" in text(r)
    assert 'data-testid="reply-edit"' not in text(r) and 'data-testid="reply-new"' not in text(r)
    r = client.get(reverse("knowledge:reply_detail", args=[reply.pk]))
    assert r.status_code == 200 and 'data-testid="reply-edit"' not in text(r)
    assert client.get(reverse("knowledge:reply_edit", args=[reply.pk])).status_code == 403


# --- dictionary and synonyms ------------------------------------------------------------------------------


def test_an_editor_keeps_the_dictionary_and_synonyms(editor):
    client = signed_in(editor)
    r = client.post(reverse("knowledge:dictionary"), {"word": "分子筛", "kind": "product"})
    assert r.status_code == 302
    word = DictionaryWord.objects.get()
    r = client.get(reverse("knowledge:dictionary"))
    assert "分子筛" in text(r)
    r = client.post(reverse("knowledge:dictionary"), {"word": "两个 词", "kind": "other"})
    assert r.status_code == 422 and 'data-testid="error-word"' in text(r)
    client.post(reverse("knowledge:dictionary_remove", args=[word.pk]))
    assert not DictionaryWord.objects.exists()

    r = client.post(reverse("knowledge:synonyms"), {"terms": "制氧机，氧气机"})
    assert r.status_code == 302
    group = SynonymGroup.objects.get()
    r = client.post(reverse("knowledge:synonyms"), {"terms": "氧气机, 供氧机"})
    assert r.status_code == 422 and 'data-testid="error-terms"' in text(r)
    r = client.get(reverse("knowledge:synonym_edit", args=[group.pk]))
    assert r.status_code == 200 and 'value="制氧机, 氧气机"' in text(r)
    client.post(reverse("knowledge:synonym_edit", args=[group.pk]), {"terms": "制氧机, 氧气机, 吸氧机"})
    group.refresh_from_db()
    assert group.term_list == ["制氧机", "氧气机", "吸氧机"]
    client.post(reverse("knowledge:synonym_delete", args=[group.pk]))
    assert not SynonymGroup.objects.exists()
    assert AuditEvent.objects.filter(verb__startswith="kb.").count() == 5
