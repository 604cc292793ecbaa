"""The search interface (kefu.knowledge.search) on the real full-text index of the database in use
(SQLite FTS5 or PostgreSQL tsvector): Chinese words, synonyms, the user dictionary, ranking, filters,
ticket scoping, incremental indexing after commit, hostile queries and snippets."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kefu.accounts.tests.factories import TeamFactory, UserFactory
from kefu.customers.tests.factories import CustomerFactory, ProductFactory
from kefu.knowledge import search
from kefu.knowledge.models import ArticleVariant, DictionaryWord, SearchEntry, SynonymGroup
from kefu.knowledge.tests.factories import ArticleFactory, ReplyFactory, article_fields
from kefu.tickets.models import Ticket
from kefu.tickets.tests.factories import TicketFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _dictionary_checked_every_time(monkeypatch):
    # the dictionary is normally re-read at most every few seconds; tests change it between lines
    monkeypatch.setattr(search, "DICTIONARY_CHECK_SECONDS", 0.0)


def article(title, body="", *, variants=(), audience="internal", status="published"):
    a = ArticleFactory(title=title, body=body, audience=audience, status=status)
    for text in variants:
        ArticleVariant.objects.create(article=a, text=text, created_at=a.created_at)
    search.index_article(a.pk)
    return a


def ids(hits, kind="article"):
    return [h.object_id for h in hits if h.kind == kind]


# --- words ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("word", ["退款", "发货", "客服"])
def test_two_character_queries_find_their_articles(word):
    # given an article using the word inside a sentence, and one without it
    hit = article("售后问题处理", f"顾客说{word}太慢了，请按流程处理。")
    article("安装说明", "师傅上门安装，带好工具。")
    # when an agent searches the two characters
    hits = search.search(word)
    # then only the article with the word is found
    assert ids(hits) == [hit.pk]


def test_a_single_character_finds_words_that_contain_it():
    # given articles about 退款 and 退货, and one about 安装
    refund = article("退款流程", "原路退回")
    goods = article("退货须知", "七天无理由")
    article("安装说明", "上门安装")
    # when searching one character
    found = set(ids(search.search("退")))
    # then both words starting with it are found
    assert found == {refund.pk, goods.pk}


def test_synonyms_find_each_other_both_ways():
    # given 制氧机 = 氧气机, and an article using each word
    SynonymGroup.objects.create(terms="制氧机,氧气机")
    a = article("制氧机噪音大怎么办", "运行声音大")
    b = article("氧气机不出氧", "检查滤网")
    # then either word finds both articles
    assert set(ids(search.search("氧气机"))) == {a.pk, b.pk}
    assert set(ids(search.search("制氧机"))) == {a.pk, b.pk}


def test_model_numbers_from_the_catalogue_stay_whole():
    # given the catalogue has OC-3A and OC-5B, and an article about each
    ProductFactory(model_number="OC-3A", name="便携制氧机")
    ProductFactory(model_number="OC-5B", name="家用制氧机")
    three = article("OC-3A 开机报警", "报警灯闪烁时先检查电源")
    five = article("OC-5B 开机报警", "报警灯闪烁时先检查电源")
    # then the model number is one term, and searching it ranks its own article first
    assert search.tokenize("OC-3A", query=True) == ["oc3a"]
    hits = search.search("OC-3A")
    assert ids(hits)[0] == three.pk
    assert five.pk not in ids(hits)  # "oc" and "3a" alone are not asked for


def test_a_word_added_to_the_dictionary_is_found_whole():
    # given jieba would cut 静音王 apart
    assert "静音王" not in search.tokenize("静音王系列")
    # when an admin adds it to the dictionary and the article is (re)indexed
    DictionaryWord.objects.create(word="静音王")
    a = article("系列保养", "静音王每月清洗滤网")
    # then it is one term, and the article is found by it with the whole word marked
    assert "静音王" in search.tokenize("静音王系列")
    hits = search.search("静音王")
    assert ids(hits) == [a.pk]
    assert "<mark>静音王</mark>" in search.search("静音王 清洗")[0].snippet


# --- ranking and filters -----------------------------------------------------------------------------


def test_a_title_match_beats_a_body_match():
    # given one article about 噪音 in its title, one mentioning it once in a longer body
    body_only = article("使用须知", "首次开机前请阅读说明书。运行时有轻微噪音属正常现象，请放心使用。")
    in_title = article("噪音处理", "请放在平稳的地面上。")
    # when searching the word
    hits = search.search("噪音")
    # then the title match ranks first, with a higher score
    assert ids(hits) == [in_title.pk, body_only.pk]
    assert hits[0].score > hits[1].score


def test_question_variants_are_searched():
    # given an article whose variant asks the question differently
    a = article("滤网更换周期", "建议每三个月更换一次。", variants=["过滤芯多久换"])
    # then the variant's words find it
    assert ids(search.search("过滤芯")) == [a.pk]


def test_the_public_sees_only_public_articles_and_agents_see_both():
    internal = article("退款审批权限", "坐席每日退款额度", audience="internal")
    public = article("如何申请退款", "在订单页点击退款", audience="public")
    ReplyFactory(title="退款话术", body="您好，退款已提交")
    search.reindex("reply")
    # the help center and the bot see only public articles (no replies)
    assert [(h.kind, h.object_id) for h in search.search("退款", audience="public")] == [
        ("article", public.pk)
    ]
    # an agent sees both audiences
    assert set(ids(search.search("退款"))) == {internal.pk, public.pk}


def test_drafts_and_archived_articles_are_indexed_but_not_live():
    draft = article("新品制氧机说明", status="draft")
    archived = article("旧款制氧机说明", status="archived")
    # then they are not found by default, but editors can ask for them
    assert search.search("制氧机") == []
    assert set(ids(search.search("制氧机", live_only=False))) == {draft.pk, archived.pk}
    assert SearchEntry.objects.filter(kind="article", is_live=False).count() == 2


def test_replies_are_shared_or_a_teams_own():
    mine, other = TeamFactory(), TeamFactory()
    shared = ReplyFactory(title="发货延迟安抚", body="非常抱歉，发货会延迟", team=None)
    own = ReplyFactory(title="发货延迟（本组）", body="发货延迟说明", team=mine)
    theirs = ReplyFactory(title="发货延迟（他组）", body="发货延迟说明", team=other)
    inactive = ReplyFactory(title="发货旧话术", body="发货", is_active=False)
    search.reindex("reply")
    # an agent of one team sees shared replies and the team's own
    assert set(ids(search.search("发货", team_ids=[mine.pk]), "reply")) == {shared.pk, own.pk}
    # with no team only the shared ones; without a team filter every active one
    assert set(ids(search.search("发货", team_ids=[]), "reply")) == {shared.pk}
    assert set(ids(search.search("发货"), "reply")) == {shared.pk, own.pk, theirs.pk}
    assert inactive.pk in ids(search.search("发货", live_only=False), "reply")


def test_tickets_are_scoped_by_a_visible_ids_subquery():
    # given two teams' tickets about 退款, and an agent of one team
    team_a, team_b = TeamFactory(), TeamFactory()
    agent = UserFactory(teams=[team_a])
    mine = TicketFactory(subject="要求退款", team=team_a)
    theirs = TicketFactory(subject="退款进度", team=team_b)
    for t in (mine, theirs):
        search.index_ticket(t.pk, t.subject, "订单号 12345")
    # when the agent searches tickets with the tickets they may see (a queryset: stays in SQL)
    visible = Ticket.objects.visible_to(agent).values("id")
    hits = search.search("退款", kinds=("ticket",), ticket_ids=visible)
    # then only their team's ticket is found
    assert ids(hits, "ticket") == [mine.pk]
    # a queryset of tickets or a list of ids work too; nothing visible finds nothing
    assert ids(
        search.search("退款", kinds=("ticket",), ticket_ids=Ticket.objects.visible_to(agent)), "ticket"
    ) == [mine.pk]
    assert ids(search.search("退款", kinds=["ticket"], ticket_ids=[theirs.pk]), "ticket") == [theirs.pk]
    assert search.search("退款", kinds=("ticket",), ticket_ids=Ticket.objects.none()) == []
    # articles and tickets together, each with its own filter
    a = article("退款流程", "原路退回")
    assert {
        (h.kind, h.object_id) for h in search.search("退款", kinds=("article", "ticket"), ticket_ids=visible)
    } == {
        ("article", a.pk),
        ("ticket", mine.pk),
    }


# --- incremental indexing -------------------------------------------------------------------------------


def test_an_article_saved_through_the_service_is_searchable_after_commit(django_capture_on_commit_callbacks):
    from kefu.knowledge.services import save_article

    editor = UserFactory(role="knowledge_editor")
    # when an editor saves a published article
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        a = save_article(
            actor=editor, **article_fields(title="滤网更换", body="三个月换一次", status="published")
        )
        # then before the commit nothing is indexed
        assert search.search("滤网") == []
    # and after it the article is found
    assert callbacks
    assert ids(search.search("滤网")) == [a.pk]
    # when the editor changes the title, the index follows
    with django_capture_on_commit_callbacks(execute=True):
        save_article(
            actor=editor,
            article_id=a.pk,
            **article_fields(title="滤芯更换", body="三个月换一次", status="published"),
        )
    assert ids(search.search("滤芯")) == [a.pk]
    assert search.search("滤网") == []


def test_replies_follow_their_events(django_capture_on_commit_callbacks):
    from kefu.knowledge.services import delete_reply, save_reply

    editor = UserFactory(role="knowledge_editor")
    with django_capture_on_commit_callbacks(execute=True):
        reply = save_reply(actor=editor, title="催发货安抚", body="{customer.name}您好，已为您催促发货")
    assert ids(search.search("催发货"), "reply") == [reply.pk]
    with django_capture_on_commit_callbacks(execute=True):
        delete_reply(actor=editor, reply_id=reply.pk)
    assert search.search("催发货") == []
    assert not SearchEntry.objects.filter(kind="reply").exists()


def test_tickets_are_indexed_after_commit_with_public_messages_only(django_capture_on_commit_callbacks):
    from kefu.tickets.services import add_message, create_ticket

    admin = UserFactory(role="admin")
    with django_capture_on_commit_callbacks(execute=True):
        ticket, _ = create_ticket(
            actor=admin, subject="空调不制冷", description="刚买一周", customer=CustomerFactory()
        )
    assert ids(search.search("制冷", kinds=("ticket",)), "ticket") == [ticket.pk]
    # an internal note is not searchable text; a public reply is
    with django_capture_on_commit_callbacks(execute=True):
        add_message(actor=admin, ticket_id=ticket.pk, kind="note", body="内部备注：压缩机批次问题")
    assert search.search("压缩机", kinds=("ticket",)) == []
    with django_capture_on_commit_callbacks(execute=True):
        add_message(actor=admin, ticket_id=ticket.pk, kind="reply", body="已安排师傅上门检修")
    assert ids(search.search("检修", kinds=("ticket",)), "ticket") == [ticket.pk]


def test_a_word_an_editor_adds_recuts_the_knowledge_base_after_commit(
    monkeypatch, django_capture_on_commit_callbacks
):
    from kefu.knowledge.services import add_dictionary_word

    # given an article indexed while jieba cut 静音王 apart, and a process that has just read the
    # dictionary (and would not look again for an hour)
    a = article("保养", "静音王每月清洗滤网")
    monkeypatch.setattr(search, "DICTIONARY_CHECK_SECONDS", 3600.0)
    search.lexicon()
    entry = SearchEntry.objects.get(kind="article", object_id=a.pk)
    assert "静音王" not in entry.tokens.split()
    # when an editor adds the word
    editor = UserFactory(role="knowledge_editor")
    with django_capture_on_commit_callbacks(execute=True):
        add_dictionary_word(actor=editor, word="静音王")
    # then queries and the article's entry use it at once
    assert "静音王" in search.tokenize("静音王", query=True)
    entry.refresh_from_db()
    assert "静音王" in entry.tokens.split()


def test_reindex_rebuilds_and_drops_entries_of_deleted_objects():
    a = article("发票开具", "电子发票")
    gone = article("旧活动规则", "满减活动")
    gone.delete()
    SearchEntry.objects.filter(kind="article", object_id=a.pk).update(tokens="")
    # when the index is rebuilt
    call_command("reindex_search", "--kind", "article", verbosity=0)
    # then the article is found again and the deleted one's entry is gone
    assert ids(search.search("发票")) == [a.pk]
    assert set(SearchEntry.objects.filter(kind="article").values_list("object_id", flat=True)) == {a.pk}


@pytest.mark.django_db(transaction=True)
def test_reindex_outside_a_transaction_writes_on_a_second_connection():
    # given committed articles (no test transaction around them)
    a = ArticleFactory(title="延保服务说明", body="延保两年")
    b = ArticleFactory(title="配件购买", body="滤芯和电源线")
    # when the index is rebuilt as `kefu reindex_search` does, in small batches
    count = search.reindex("article", batch=1)
    # then every article is indexed and found
    assert count == 2
    assert ids(search.search("延保")) == [a.pk]
    assert ids(search.search("滤芯")) == [b.pk]


# --- hostile input and snippets ---------------------------------------------------------------------------

HOSTILE = [
    "",
    "   ",
    '"',
    '"退款',
    "退款\"' OR 1=1 --",
    "*",
    "退*",
    "AND",
    "退款 AND 发货",
    "NEAR(退款 发货)",
    "NOT 退款",
    "(退款",
    "退款)",
    "-退款",
    "退款:*",
    "'a' | 'b' & !c",
    "^退款",
    "{kind} [x]",
    "😀🔥退款🙏",
    "\x00\x1f退款",
    "\\",
    "%s %%",
    "退款" * 500,
    "a" * 1000,
    "ＯＣ－３Ａ！",
]


@pytest.mark.parametrize("query", HOSTILE)
def test_hostile_queries_never_raise(query):
    article("退款流程", "原路退回 OC-3A")
    hits = search.search(query, kinds=("article", "reply", "ticket"), ticket_ids=Ticket.objects.values("id"))
    assert isinstance(hits, list)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=60))
def test_any_text_is_a_valid_query(query):
    search.search(query, kinds=("article", "reply", "ticket"))


def test_snippets_escape_html_and_mark_the_words():
    # given an article body with markup a customer might paste
    article("退款说明", "前面的说明文字。<script>alert(1)</script> 申请退款请在订单页操作，退款原路返回。")
    # when searching
    (hit,) = search.search("退款")
    # then the markup shows as text and the matched words are marked
    assert "<script>" not in hit.snippet
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in hit.snippet
    assert hit.snippet.count("<mark>退款</mark>") == 2
    assert len(hit.snippet.replace("<mark>", "").replace("</mark>", "")) <= 120


def test_snippets_start_near_the_first_match_in_a_long_text():
    article("保修政策", "一" * 300 + "整机保修一年，压缩机保修三年。" + "二" * 300)
    (hit,) = search.search("压缩机")
    assert hit.snippet.startswith("…") and hit.snippet.endswith("…")
    assert "<mark>压缩机</mark>" in hit.snippet


def test_markdown_is_not_in_the_snippet():
    article("安装", "## 步骤\n\n1. **拆开**包装\n2. 按[说明书](https://example.com/a.pdf)安装")
    (hit,) = search.search("说明书")
    assert hit.snippet == "步骤 拆开包装 按<mark>说明书</mark>安装"
