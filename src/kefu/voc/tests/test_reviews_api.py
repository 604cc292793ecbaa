"""POST/GET /api/v1/voc/reviews and GET /api/v1/voc/imports/{id}."""
# ruff: noqa: F811  (fixtures imported from fixtures_imports)

from __future__ import annotations

import pytest

from kefu.audit.models import AuditEvent
from kefu.voc.models import FeedbackItem, Review
from kefu.voc.tests.fixtures_imports import (  # noqa: F401  (fixtures)
    agent,
    manager,
    product,
    review_row,
    run_upload,
    shop,
    xlsx_upload,
)

pytestmark = pytest.mark.django_db
URL = "voc/reviews"


def reviews(n=3):
    return [
        {
            "review_id": f"JD-{i}",
            "rating": 1 if i == 0 else 5,
            "content": "制氧机噪音太大" if i == 0 else "很好",
            "reviewed_at": f"2026-11-1{i} 09:00:00",
            "order_number": f"9000{i}",
            "product_name": "康悦制氧机 KY-5W",
            "buyer_nick": f"jd_{i}",
        }
        for i in range(n)
    ]


def test_push_creates_then_repeat_is_200_with_nothing_new(api, manager, shop, product):
    # when a shop system pushes three reviews by shop code
    first = api(manager).post(URL, {"shop": shop.code, "reviews": reviews()})
    # then they are created, with the product matched and feedback items
    assert first.status_code == 201, first.content
    body = first.json()
    assert (body["created"], body["duplicates"], body["follow_ups_added"]) == (3, 0, 0)
    assert Review.objects.filter(product=product, shop=shop).count() == 3
    assert Review.objects.get(platform_review_id="JD-0").level == "bad"
    assert AuditEvent.objects.filter(verb="voc.reviews_received").count() == 1
    # when the same reviews are pushed again (by shop id), one now with a 追评
    again = reviews()
    again[0]["follow_up_content"] = "客服也不理人"
    second = api(manager).post(URL, {"shop": shop.pk, "reviews": again})
    # then 200: nothing created, the follow-up added, the same ids
    assert second.status_code == 200
    assert second.json() == {"created": 0, "duplicates": 2, "follow_ups_added": 1, "ids": body["ids"]}
    assert FeedbackItem.objects.filter(source="review_follow_up").count() == 1


def test_invalid_item_refuses_the_whole_request(api, manager, shop):
    # given four reviews, the fourth with 6 stars
    items = reviews(4)
    items[3]["rating"] = 6
    # when pushed
    response = api(manager).post(URL, {"shop": shop.code, "reviews": items})
    # then 422 names the field, and nothing is stored
    assert response.status_code == 422
    assert response.json()["field"] == "reviews[3].rating"
    assert Review.objects.count() == 0


def test_missing_time_and_unknown_shop(api, manager, shop):
    items = reviews(2)
    del items[1]["reviewed_at"]
    response = api(manager).post(URL, {"shop": shop.code, "reviews": items})
    assert (response.status_code, response.json()["field"]) == (422, "reviews[1].reviewed_at")
    response = api(manager).post(URL, {"shop": "no-such-shop", "reviews": reviews(1)})
    assert (response.status_code, response.json()["field"]) == (422, "shop")


def test_agent_is_refused_and_anonymous_is_401(api, agent, shop):
    assert api(agent).post(URL, {"shop": shop.code, "reviews": reviews(1)}).status_code == 403
    assert api().post(URL, {"shop": shop.code, "reviews": reviews(1)}).status_code == 401
    assert Review.objects.count() == 0


def test_list_filters(api, manager, agent, shop):
    api(manager).post(URL, {"shop": shop.code, "reviews": reviews(3)})
    # an agent (voc.view) lists the bad reviews of the week of 2026-11-09 (Monday)
    response = api(agent).get(URL, shop=shop.pk, level="bad", week="2026-11-09")
    assert response.status_code == 200
    data = response.json()
    assert data["count"] == 1 and data["items"][0]["content"] == "制氧机噪音太大"
    assert api(agent).get(URL, week="2026-13-01").status_code == 422


def test_import_progress(api, agent, run_upload):
    imp = run_upload(xlsx_upload([review_row(1), review_row(2)]))
    response = api(agent).get(f"voc/imports/{imp.pk}")
    assert response.status_code == 200
    assert response.json()["status"] == "done" and response.json()["created_count"] == 2
    assert api(agent).get("voc/imports/999999").status_code == 404


def test_level_without_stars_and_the_size_limit(api, manager, shop):
    # a review with a level word and no stars is stored with that level
    item = {
        "review_id": "TM-1",
        "level": "差评",
        "content": "发货太慢",
        "reviewed_at": "2026-11-10T09:00:00+08:00",
    }
    response = api(manager).post(URL, {"shop": shop.code, "reviews": [item]})
    assert response.status_code == 201
    review = Review.objects.get(platform_review_id="TM-1")
    assert (review.level, review.rating) == ("bad", None)
    # more than 1,000 reviews in one request are refused naming the list
    many = [{**item, "review_id": f"TM-{i}"} for i in range(1001)]
    response = api(manager).post(URL, {"shop": shop.code, "reviews": many})
    assert (response.status_code, response.json()["field"]) == (413, "reviews")
    assert Review.objects.count() == 1
