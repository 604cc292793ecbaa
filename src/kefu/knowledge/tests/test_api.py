"""The knowledge-base API: article and standard reply CRUD, versions and variants, search, errors as
{code, message, field}, permissions, and the OpenAPI schema."""

from __future__ import annotations

import pytest

from kefu.accounts.tests.factories import DepartmentFactory, TeamFactory, UserFactory
from kefu.audit.models import AuditEvent
from kefu.knowledge import services
from kefu.knowledge.models import Article, StandardReply
from kefu.knowledge.tests.factories import article_fields

pytestmark = pytest.mark.django_db

ARTICLE = {
    "title": "制氧机噪音大怎么办",
    "body": "## 原因\n\n压缩机运行有声音属正常。<script>alert(1)</script>",
    "variants": ["氧气机声音很响", "氧气机声音很响 ", "制氧机嗡嗡响正常吗"],
    "audience": "public",
    "status": "draft",
}


@pytest.fixture
def teams():
    dept = DepartmentFactory()
    return TeamFactory(name="售后一组", department=dept), TeamFactory(name="售后二组", department=dept)


@pytest.fixture
def editor():
    return UserFactory(username="editor", role="knowledge_editor")


@pytest.fixture
def agent(teams):
    return UserFactory(username="agent", role="agent", teams=[teams[0]])


@pytest.fixture
def supervisor(teams):
    return UserFactory(username="lead", role="supervisor", teams=[teams[0]])


# --- articles ----------------------------------------------------------------------------------------


def test_article_crud_with_versions_and_variants(api, editor):
    client = api(editor)
    # when an editor creates an article
    r = client.post("kb/articles", ARTICLE)
    assert r.status_code == 201, r.content
    created = r.json()
    article_id = created["id"]
    # then it is version 1 with sanitized HTML and deduplicated variants
    assert created["version"] == 1 and created["status"] == "draft"
    assert "<h2>原因</h2>" in created["body_html"] and "<script>" not in created["body_html"]
    assert created["variants"] == ["氧气机声音很响", "制氧机嗡嗡响正常吗"]
    assert created["url"] == f"/kb/articles/{article_id}/"
    assert created["created_by"]["username"] == "editor"
    # it is listed and readable
    listed = client.get("kb/articles", status="draft").json()
    assert [a["id"] for a in listed["items"]] == [article_id] and listed["next_cursor"] is None
    assert client.get(f"kb/articles/{article_id}").json()["title"] == ARTICLE["title"]
    # a patch changes only what it names, and publishes: version 2
    r = client.patch(f"kb/articles/{article_id}", {"status": "published", "body": "新的正文"})
    assert r.status_code == 200, r.content
    patched = r.json()
    assert (patched["version"], patched["status"], patched["body"]) == (2, "published", "新的正文")
    assert patched["variants"] == created["variants"] and patched["published_at"]
    # a variant: 201 the first time, 200 when it is already there
    r = client.post(f"kb/articles/{article_id}/variants", {"text": "晚上太吵睡不着", "source": "bot_tuning"})
    assert r.status_code == 201 and r.json()["source"] == "bot_tuning"
    r = client.post(f"kb/articles/{article_id}/variants", {"text": "晚上太吵睡不着"})
    assert r.status_code == 200
    # versions, newest first
    versions = client.get(f"kb/articles/{article_id}/versions").json()
    assert [v["version"] for v in versions] == [3, 2, 1]
    assert versions[0]["variants"][-1] == "晚上太吵睡不着" and versions[2]["body"] == ARTICLE["body"]
    assert versions[0]["author"]["username"] == "editor"
    # delete archives (articles are never deleted)
    r = client.client.delete(f"/api/v1/kb/articles/{article_id}")
    assert r.status_code == 200 and r.json()["status"] == "archived"
    assert Article.objects.filter(pk=article_id).exists()
    assert set(AuditEvent.objects.values_list("verb", flat=True)) >= {
        "article.created",
        "article.updated",
        "article.published",
        "article.variant_added",
        "article.archived",
    }


@pytest.mark.parametrize(
    ("payload", "status", "field"),
    [
        ({**ARTICLE, "title": ""}, 422, "title"),
        ({**ARTICLE, "title": "x" * 201}, 422, "title"),
        ({**ARTICLE, "variants": [f"问{n}" for n in range(51)]}, 422, "variants"),
        ({**ARTICLE, "variants": ["问" * 301]}, 422, "variants"),
        ({**ARTICLE, "audience": "everyone"}, 422, "audience"),
        ({**ARTICLE, "product_ids": [424242]}, 422, "product_ids"),
        ({**ARTICLE, "category_id": 424242}, 422, "category_id"),
        ({**ARTICLE, "colour": "red"}, 422, "colour"),
        ({"body": "没有标题"}, 422, "title"),
    ],
)
def test_bad_article_input_is_a_422_naming_the_field(api, editor, payload, status, field):
    r = api(editor).post("kb/articles", payload)
    assert r.status_code == status, r.content
    body = r.json()
    assert body["field"] == field and body["code"] == "validation_failed" and body["message"]
    assert not Article.objects.exists()


def test_a_forbidden_transition_is_a_409(api, editor):
    client = api(editor)
    article_id = client.post("kb/articles", {**ARTICLE, "status": "published"}).json()["id"]
    client.client.delete(f"/api/v1/kb/articles/{article_id}")
    r = client.patch(f"kb/articles/{article_id}", {"status": "published"})
    assert r.status_code == 409
    assert r.json()["code"] == "invalid_transition" and r.json()["field"] == "status"


def test_agents_read_published_articles_but_may_not_write(api, editor, agent):
    draft = services.save_article(actor=editor, **article_fields())
    published = services.save_article(actor=editor, **article_fields(title="已发布", status="published"))
    client = api(agent)
    # when an agent creates or changes an article: 403 with a code
    r = client.post("kb/articles", ARTICLE)
    assert r.status_code == 403 and r.json()["code"] == "permission_denied"
    assert client.patch(f"kb/articles/{published.pk}", {"title": "改"}).status_code == 403
    assert client.post(f"kb/articles/{published.pk}/variants", {"text": "问"}).status_code == 403
    # they read published articles; drafts are not found
    assert [a["id"] for a in client.get("kb/articles").json()["items"]] == [published.pk]
    assert client.get(f"kb/articles/{published.pk}").status_code == 200
    assert client.get(f"kb/articles/{draft.pk}").status_code == 404
    assert client.get(f"kb/articles/{draft.pk}/versions").status_code == 404
    # and without credentials: 401
    assert api().get("kb/articles").status_code == 401


def test_article_list_pages_with_a_cursor(api, editor):
    for n in range(3):
        services.save_article(actor=editor, **article_fields(title=f"文章{n}"))
    client = api(editor)
    first = client.get("kb/articles", limit=2).json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    rest = client.get("kb/articles", limit=2, cursor=first["next_cursor"]).json()
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None


def test_uploading_an_image_returns_its_markdown(api, editor):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from kefu.knowledge.tests.test_articles import PNG

    article = services.save_article(actor=editor, **article_fields())
    client = api(editor)
    r = client.multipart(f"kb/articles/{article.pk}/attachments", {"file": SimpleUploadedFile("a.png", PNG)})
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["content_type"] == "image/png"
    assert body["markdown"] == f"![a.png](/kb/attachments/{body['id']}/)"
    r = client.multipart(
        f"kb/articles/{article.pk}/attachments", {"file": SimpleUploadedFile("a.html", b"<html></html>")}
    )
    assert r.status_code == 415 and r.json()["field"] == "file"


# --- standard replies ------------------------------------------------------------------------------------


def test_reply_crud(api, editor, teams):
    client = api(editor)
    r = client.post(
        "kb/replies", {"title": "问候", "body": "{customer.name}您好，{order.id}", "team_id": None}
    )
    assert r.status_code == 201, r.content
    reply = r.json()
    assert reply["team"] is None and reply["unknown_placeholders"] == ["order.id"]
    r = client.patch(f"kb/replies/{reply['id']}", {"team_id": teams[1].pk, "is_active": False})
    assert r.status_code == 200
    assert r.json()["team"]["id"] == teams[1].pk and r.json()["is_active"] is False
    assert r.json()["title"] == "问候"
    assert client.get("kb/replies", active=False).json()["items"][0]["id"] == reply["id"]
    assert client.get(f"kb/replies/{reply['id']}").status_code == 200
    r = client.client.delete(f"/api/v1/kb/replies/{reply['id']}")
    assert r.status_code == 204
    assert not StandardReply.objects.exists()
    r = client.post("kb/replies", {"title": "", "body": "b"})
    assert r.status_code == 422 and r.json()["field"] == "title"


def test_supervisors_write_their_teams_replies_only(api, supervisor, agent, editor, teams):
    own_team, other_team = teams
    client = api(supervisor)
    r = client.post("kb/replies", {"title": "本组", "body": "您好", "team_id": own_team.pk})
    assert r.status_code == 201
    r = client.post("kb/replies", {"title": "他组", "body": "您好", "team_id": other_team.pk})
    assert r.status_code == 403 and r.json()["field"] == "team_id"
    assert client.post("kb/replies", {"title": "共享", "body": "您好"}).status_code == 403
    shared = services.save_reply(actor=editor, title="共享", body="您好", team_id=None)
    assert client.patch(f"kb/replies/{shared.pk}", {"title": "改"}).status_code == 403
    assert client.client.delete(f"/api/v1/kb/replies/{shared.pk}").status_code == 403
    # agents read shared and their team's replies, and may not write
    agent_client = api(agent)
    assert (
        agent_client.post("kb/replies", {"title": "t", "body": "b", "team_id": own_team.pk}).status_code
        == 403
    )
    assert {r["title"] for r in agent_client.get("kb/replies").json()["items"]} == {"本组", "共享"}


# --- search ------------------------------------------------------------------------------------------------


def test_search_ranks_articles_and_replies_the_actor_may_see(
    api, editor, agent, teams, django_capture_on_commit_callbacks
):
    # given published articles, a draft, and replies of the agent's team, another team and shared
    with django_capture_on_commit_callbacks(execute=True):
        noise = services.save_article(
            actor=editor,
            **article_fields(status="published", audience="internal", variants=["氧气机声音很响"]),
        )
        public = services.save_article(
            actor=editor, **article_fields(title="制氧机噪音说明", status="published", audience="public")
        )
        services.save_article(actor=editor, **article_fields(title="制氧机噪音草稿"))
        services.save_reply(
            actor=editor, title="噪音安抚", body="{customer.name}您好，制氧机噪音属正常", team_id=None
        )
        own = services.save_reply(actor=editor, title="本组噪音话术", body="制氧机噪音", team_id=teams[0].pk)
        services.save_reply(actor=editor, title="他组噪音话术", body="制氧机噪音", team_id=teams[1].pk)
    # when the agent searches
    r = api(agent).get("kb/search", q="制氧机 噪音", limit=10)
    assert r.status_code == 200, r.content
    hits = r.json()
    # then published articles and the replies they may use come back, ranked, with snippets and links
    found = {(h["kind"], h["title"]) for h in hits}
    assert ("article", noise.title) in found and ("article", public.title) in found
    assert ("article", "制氧机噪音草稿") not in found
    assert ("reply", "噪音安抚") in found and ("reply", own.title) in found
    assert ("reply", "他组噪音话术") not in found
    assert all(isinstance(h["score"], float) for h in hits)
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)
    assert any("<mark>" in h["snippet"] for h in hits)
    article_hit = next(h for h in hits if h["id"] == noise.pk and h["kind"] == "article")
    assert article_hit["url"] == f"/kb/articles/{noise.pk}/"
    # a question worded like a variant finds its article
    assert noise.pk in [h["id"] for h in api(agent).get("kb/search", q="氧气机", kinds="article").json()]
    # audience=public: public articles only, no replies
    public_hits = api(agent).get("kb/search", q="制氧机 噪音", audience="public").json()
    assert [(h["kind"], h["id"]) for h in public_hits] == [("article", public.pk)]
    # kinds narrows; editors also find drafts
    assert {h["kind"] for h in api(agent).get("kb/search", q="噪音", kinds="reply").json()} == {"reply"}
    assert "制氧机噪音草稿" in {h["title"] for h in api(editor).get("kb/search", q="草稿").json()}


def test_search_input_errors(api, agent):
    client = api(agent)
    r = client.get("kb/search", q="噪音", kinds="ticket")
    assert r.status_code == 422 and r.json()["field"] == "kinds"
    r = client.get("kb/search", q="噪音", audience="everyone")
    assert r.status_code == 422 and r.json()["field"] == "audience"
    assert client.get("kb/search", q=" ").status_code == 422
    assert client.get("kb/search").status_code == 422
    assert client.get("kb/search", q="噪音", limit=0).status_code == 422
    assert client.get("kb/search", q="不存在的词语组合").json() == []


def test_the_openapi_schema_lists_the_knowledge_paths(api, editor):
    r = api(editor).get("/api/v1/openapi.json")
    assert r.status_code == 200
    paths = r.json()["paths"]
    for path_, methods in {
        "/api/v1/kb/articles": {"get", "post"},
        "/api/v1/kb/articles/{article_id}": {"get", "patch", "delete"},
        "/api/v1/kb/articles/{article_id}/versions": {"get"},
        "/api/v1/kb/articles/{article_id}/variants": {"post"},
        "/api/v1/kb/replies": {"get", "post"},
        "/api/v1/kb/replies/{reply_id}": {"get", "patch", "delete"},
        "/api/v1/kb/search": {"get"},
    }.items():
        assert methods <= set(paths[path_]), path_
        for method in methods:
            assert paths[path_][method]["tags"] == ["knowledge"]
