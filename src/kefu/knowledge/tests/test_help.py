"""The public help center: browse, search and read published public articles in zh-hans and English,
readable URLs, and "was this helpful?" votes (one per session, rate-limited)."""

import hashlib
from urllib.parse import unquote

import pytest
from django.core.cache import cache
from django.test import Client

from kefu.accounts.tests.factories import UserFactory
from kefu.knowledge import services
from kefu.knowledge.models import ArticleCategory, ArticleVote

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def editor():
    return UserFactory(username="editor", role="knowledge_editor")


@pytest.fixture
def make_article(editor, django_capture_on_commit_callbacks):
    """An article written through the editor's service (body sanitized at save); the search index
    follows after commit."""

    def make(title, body, *, audience="public", status="published", language="zh-hans", category=None):
        with django_capture_on_commit_callbacks(execute=True):
            article = services.save_article(
                actor=editor,
                title=title,
                body=body,
                variants=[],
                category_id=category.pk if category else None,
                product_ids=[],
                audience=audience,
                status="draft" if status == "archived" else status,
                language=language,
            )
            if status == "archived":
                article = services.set_article_status(actor=editor, article_id=article.pk, status="published")
                article = services.set_article_status(actor=editor, article_id=article.pk, status="archived")
        return article

    return make


@pytest.fixture
def category():
    return ArticleCategory.objects.create(name="呼吸健康")


@pytest.fixture
def noise(category, make_article):
    return make_article(
        "制氧机运行噪音大怎么办",
        "制氧机工作时压缩机会发出45分贝左右的声音，属于正常范围。请检查过滤棉。",
        category=category,
    )


@pytest.fixture
def noise_en(category, make_article):
    return make_article(
        "My oxygen concentrator is noisy",
        "A working compressor makes about 45 dB of sound; clean the filter.",
        category=category,
        language="en",
    )


@pytest.fixture
def hidden(category, make_article):
    """Articles the help center must never show."""
    return {
        "internal": make_article(
            "制氧机噪音上门检测内部流程", "内部：安排网点上门。", audience="internal", category=category
        ),
        "draft": make_article(
            "制氧机噪音草稿", "还没写完的制氧机噪音说明。", status="draft", category=category
        ),
        "archived": make_article(
            "旧版制氧机噪音说明", "已归档的制氧机噪音说明。", status="archived", category=category
        ),
    }


def zh() -> Client:
    return Client()  # no Accept-Language: zh-hans, the default


def en() -> Client:
    return Client(HTTP_ACCEPT_LANGUAGE="en")


# --- browsing ------------------------------------------------------------------------------------


def test_home_lists_published_public_articles_in_chinese_by_default(noise, noise_en, hidden):
    # when a visitor opens the help center without choosing a language
    response = zh().get("/help/")
    # then it is in Chinese and lists the Chinese public article under its category, nothing hidden
    html = response.content.decode()
    assert response.status_code == 200
    assert 'lang="zh-hans"' in html
    assert "呼吸健康" in html
    assert noise.title in html
    assert noise_en.title not in html  # the English article is for English readers
    for article in hidden.values():
        assert article.title not in html


def test_home_in_english_shows_english_articles_first_then_chinese_ones(noise, noise_en, make_article):
    # given a category with no English article
    other = ArticleCategory.objects.create(name="订单、物流与售后")
    refund = make_article("如何申请退款", "在订单页点击申请退款。", category=other)
    # when an English reader opens the help center
    html = en().get("/help/").content.decode()
    # then the page speaks English and lists English articles before Chinese ones in each category
    assert "How can we help?" in html
    assert html.index(noise_en.title) < html.index(noise.title)
    assert refund.title in html


def test_home_queries_are_bounded(noise, noise_en, make_article, django_assert_max_num_queries):
    # given many categories and articles
    for i in range(8):
        cat = ArticleCategory.objects.create(name=f"分类{i}")
        for j in range(12):
            make_article(f"文章{i}-{j}", "正文", category=cat, language="en")
    # when the front page is read, the number of queries does not grow with the handbook
    with django_assert_max_num_queries(6):
        response = en().get("/help/")
    assert response.status_code == 200
    # and each category lists at most ten articles, with a link to all of them
    html = response.content.decode()
    assert html.count(">文章0-") == 10
    assert "See all 12 articles" in html


def test_category_page_lists_its_articles(category, noise):
    response = zh().get(f"/help/categories/{category.pk}/")
    assert response.status_code == 200
    assert noise.title in response.content.decode()
    assert zh().get("/help/categories/999999/").status_code == 404


# --- reading ---------------------------------------------------------------------------------------


def test_article_page_renders_the_article_at_its_readable_url(noise):
    # when a visitor opens the article's readable URL
    response = zh().get(f"/help/articles/{noise.pk}-{noise.slug}/")
    # then they read its sanitized body and are asked whether it helped
    html = response.content.decode()
    assert response.status_code == 200
    assert "<p>制氧机工作时压缩机会发出45分贝左右的声音" in html
    assert "<h1" in html and noise.title in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert 'name="helpful" value="yes"' in html


def test_english_article_page_in_english(noise_en):
    response = en().get(f"/help/articles/{noise_en.pk}-{noise_en.slug}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "A working compressor makes about 45 dB" in html
    assert "Was this helpful?" in html
    assert 'lang="en"' in html


def test_a_renamed_article_redirects_old_links_to_its_new_address(noise, editor, category):
    old_url = f"/help/articles/{noise.pk}-{noise.slug}/"
    # given the editor renamed the article (its slug follows the title)
    services.save_article(
        actor=editor,
        article_id=noise.pk,
        title="制氧机声音大怎么办",
        body=noise.body,
        variants=[],
        category_id=category.pk,
        product_ids=[],
        audience="public",
        status="published",
    )
    new_url = f"/help/articles/{noise.pk}-制氧机声音大怎么办/"
    # when the old link or the bare id is followed
    for url in (old_url, f"/help/articles/{noise.pk}/"):
        response = zh().get(url)
        # then the visitor is sent permanently to the current address, which works
        assert response.status_code == 301
        assert unquote(response["Location"]) == new_url
    page = zh().get(new_url)
    assert page.status_code == 200
    assert "制氧机声音大怎么办" in page.content.decode()


@pytest.mark.parametrize("which", ["internal", "draft", "archived"])
def test_internal_draft_and_archived_articles_are_not_found(hidden, which):
    article = hidden[which]
    assert zh().get(f"/help/articles/{article.pk}/").status_code == 404
    assert zh().get(f"/help/articles/{article.pk}-x/").status_code == 404
    assert en().get(f"/help/articles/{article.pk}-x/").status_code == 404


# --- search ------------------------------------------------------------------------------------------


def test_search_finds_public_articles_with_highlighted_snippets(noise, hidden):
    # when a visitor searches with two words
    response = zh().get("/help/search/", {"q": "制氧机 噪音"})
    html = response.content.decode()
    # then the public article is found, linked at its readable URL, with the words marked
    assert response.status_code == 200
    assert noise.title in html
    assert f'href="/help/articles/{noise.pk}-' in html
    assert "<mark>" in html
    for article in hidden.values():
        assert article.title not in html


def test_search_in_english_lists_english_articles_first(noise, noise_en):
    # given a Chinese and an English article that both match (45 分贝 / 45 dB)
    # when an English reader searches, the English article comes first; a Chinese reader's order is
    # the index's own
    html = en().get("/help/search/", {"q": "45"}).content.decode()
    assert noise.title in html and noise_en.title in html
    assert html.index(noise_en.title) < html.index(noise.title)


def test_search_without_words_or_with_unknown_ones(noise):
    assert zh().get("/help/search/").status_code == 200
    response = en().get("/help/search/", {"q": "zzzqqq"})
    assert response.status_code == 200
    assert "Nothing found" in response.content.decode()


def test_search_is_rate_limited(settings, noise):
    settings.KEFU_HELP_SEARCH_LIMIT = 2
    c = en()
    assert c.get("/help/search/", {"q": "噪音"}).status_code == 200
    assert c.get("/help/search/", {"q": "噪音"}).status_code == 200
    response = c.get("/help/search/", {"q": "噪音"})
    assert response.status_code == 429
    assert "Too many requests" in response.content.decode()


# --- votes ----------------------------------------------------------------------------------------------


def vote_url(article) -> str:
    return f"/help/articles/{article.pk}/vote/"


def test_a_vote_is_stored_once_per_session(noise):
    c = en()
    # when a visitor answers "yes"
    response = c.post(vote_url(noise), {"helpful": "yes"}, follow=True)
    # then the vote is stored, anonymously keyed by a hash of their session and the article,
    # and the page thanks them instead of asking again
    html = response.content.decode()
    vote = ArticleVote.objects.get(article=noise)
    assert vote.helpful is True
    assert vote.source == "help_center"
    session_key = c.session.session_key
    assert vote.voter == hashlib.sha256(f"{session_key}:{noise.pk}".encode()).hexdigest()
    assert "Thank you for your feedback." in html
    assert 'name="helpful"' not in html
    # when the same visitor answers again (also "no")
    response = c.post(vote_url(noise), {"helpful": "no"}, follow=True)
    # then nothing more is stored
    assert ArticleVote.objects.filter(article=noise).count() == 1
    assert "already answered" in response.content.decode()
    # and another visitor's vote counts
    en().post(vote_url(noise), {"helpful": "no"})
    assert list(
        ArticleVote.objects.filter(article=noise).order_by("id").values_list("helpful", flat=True)
    ) == [
        True,
        False,
    ]


def test_a_vote_needs_the_csrf_token(noise):
    c = Client(enforce_csrf_checks=True)
    assert c.post(vote_url(noise), {"helpful": "yes"}).status_code == 403
    assert not ArticleVote.objects.exists()


def test_a_vote_must_be_yes_or_no(noise):
    response = en().post(vote_url(noise), {"helpful": "maybe"})
    assert response.status_code == 422
    assert not ArticleVote.objects.exists()


def test_votes_on_hidden_articles_are_not_found(hidden):
    for article in hidden.values():
        assert en().post(vote_url(article), {"helpful": "yes"}).status_code == 404
    assert not ArticleVote.objects.exists()


def test_votes_are_rate_limited_per_visitor(settings, noise, category, make_article):
    # given a limit of two votes per window for one address
    settings.KEFU_HELP_VOTE_LIMIT = 2
    other = make_article("制氧机氧浓度低", "等待十分钟。", category=category)
    third = make_article("制氧机报警灯", "检查湿化瓶。", category=category)
    # when one address votes on three articles with fresh sessions
    assert en().post(vote_url(noise), {"helpful": "yes"}).status_code == 302
    assert en().post(vote_url(other), {"helpful": "yes"}).status_code == 302
    response = en().post(vote_url(third), {"helpful": "yes"})
    # then the third is refused with a 429 that says when to try again, and not stored
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "Too many requests" in response.content.decode()
    assert ArticleVote.objects.count() == 2
