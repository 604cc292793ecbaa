"""The issue's "done when" for the knowledge base, on the demo: an agent types 制氧机 噪音 on a ticket and
gets the handbook article and a standard reply with the customer's name filled in; a customer asks
the bot a question worded differently from the article and is answered, asks something unknown and is
handed to a person with a ticket; an editor turns that question into an article variant in the tuning
list, after which the bot answers it."""

import re
import uuid

from playwright.sync_api import expect

from tests.e2e.conftest import create_ticket, screenshot, signed_in


def test_agent_finds_the_handbook_article_and_inserts_a_filled_reply(page):
    # given agent1 on a new ticket of a customer called 林晓
    signed_in(page, "agent1")
    ticket = create_ticket(
        page,
        subject="机器晚上声音大",
        customer={"name": "林晓", "phone": f"136{uuid.uuid4().int % 10**8:08d}"},
    )
    page.goto(f"/tickets/{ticket['id']}/")

    # when they type 制氧机 噪音 into the suggestions' search box
    page.locator("#kf-assist-q").fill("制氧机 噪音")

    # then the handbook article and the standard reply are suggested
    articles = page.get_by_test_id("assist-articles")
    expect(articles).to_contain_text("制氧机运行噪音大怎么办")
    replies = page.get_by_test_id("assist-replies")
    reply = replies.locator("li", has_text="制氧机噪音处理")
    expect(reply).to_have_count(1)

    # when they insert the reply
    reply.locator("[data-kf-insert]").click()

    # then the composer holds it with the customer's name and the ticket number filled in
    body = page.locator("#kf-composer-body")
    expect(body).to_have_value(re.compile(rf"^林晓您好.*{ticket['number']}"))
    screenshot(page, "assist-insert")


def ask(page, question: str, session: str | None = None) -> dict:
    payload = {"question": question, "channel": "web"}
    if session:
        payload["session"] = session
    response = page.request.post("/api/v1/bot/ask", data=payload)
    assert response.status == 200, response.text()
    return response.json()


def test_bot_answers_hands_off_and_learns_from_the_editor(page, browser, server):
    # when a customer asks the bot in their own words
    answered = ask(page, "晚上氧气机吵得睡不着怎么办")
    # then it answers with the handbook article on noise
    assert answered["type"] == "answer", answered
    assert answered["title"] == "制氧机运行噪音大怎么办"

    # when they ask something the handbook does not cover (yet)
    unknown = f"仨月的机子坏了收钱不 {uuid.uuid4().hex[:4]}"
    handed = ask(page, unknown, session=answered["session"])
    # then they are handed to a person, with a ticket
    assert handed["type"] == "handoff", handed
    assert re.fullmatch(r"T\d{13,}", handed["ticket_number"])

    # when the editor opens the tuning list and adds the question as a variant of the warranty article
    signed_in(page, "editor", next_url="/bot/tuning/")
    group = page.get_by_test_id("tuning-group").filter(has_text=unknown)
    expect(group).to_have_count(1)
    hits = page.request.get("/api/v1/kb/search", params={"q": "保修政策与保修期", "kinds": "article"}).json()
    warranty = next(h for h in hits if h["title"] == "保修政策与保修期")
    group.get_by_test_id("variant-article").select_option("")
    group.locator("input[name=other_article]").fill(str(warranty["id"]))
    group.get_by_test_id("add-variant").click()
    expect(page.get_by_test_id("tuning-group").filter(has_text=unknown)).to_have_count(0)

    # then the bot answers that question with the warranty article
    again = ask(page, unknown)
    assert again["type"] == "answer", again
    assert again["title"] == "保修政策与保修期"
