"""Review import end to end: upload → confirm → the Huey task → reviews, feedback items, tickets."""
# ruff: noqa: F811  (fixtures imported from fixtures_imports)

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from kefu.audit.models import AuditEvent
from kefu.core.errors import LimitExceeded, PermissionDenied, UnsupportedMediaType, ValidationFailed
from kefu.tickets.models import Ticket
from kefu.voc.models import FeedbackItem, Review, ReviewImport, ReviewMapping
from kefu.voc.services import review_rules
from kefu.voc.services import reviews as review_services
from kefu.voc.tasks import run_review_import_task
from kefu.voc.tests.fixtures_imports import (  # noqa: F401  (fixtures)
    agent,
    csv_upload,
    manager,
    product,
    review_row,
    run_upload,
    shop,
    team,
    xlsx_upload,
)

pytestmark = pytest.mark.django_db


def test_import_creates_reviews_and_a_second_import_adds_nothing(run_upload, product, shop):
    # given an export of 12 reviews, two of them bad, one with a 追评
    rows = [review_row(n) for n in range(10)]
    rows += [review_row(10, stars=1, text="噪音太大"), review_row(11, stars=3, text="一般", follow_up="还行")]
    # when it is imported
    imp = run_upload(xlsx_upload(rows))
    # then every row is a review of the shop, mapped to the product, with a feedback item
    assert imp.status == "done"
    assert (imp.created_count, imp.duplicate_count, imp.skipped_count) == (12, 0, 0)
    assert imp.processed_rows == imp.total_rows == 12
    assert Review.objects.filter(shop=shop, product=product).count() == 12
    assert Review.objects.get(content="噪音太大").level == "bad"
    assert FeedbackItem.objects.filter(source="review").count() == 12
    assert FeedbackItem.objects.filter(source="review_follow_up").count() == 1
    assert ReviewMapping.objects.get(shop=shop).columns["content"] == "评价内容"
    verbs = list(AuditEvent.objects.values_list("verb", flat=True))
    assert {"voc.mapping_saved", "voc.import_started", "voc.import_finished"} <= set(verbs)
    # when the same file is imported again, as CSV this time
    again = run_upload(csv_upload(rows))
    # then nothing new is created
    assert (again.status, again.created_count, again.duplicate_count) == ("done", 0, 12)
    assert Review.objects.count() == 12
    assert FeedbackItem.objects.count() == 13


def test_skipped_rows_are_reported(run_upload):
    # given a file with a bad date, a bad rating and a row with only a nick
    rows = [
        review_row(1),
        review_row(2, when="上周三"),
        review_row(3, stars="优秀"),
        ["", "", "", "", "", "", "", "", "只有昵称"],
    ]
    # when imported (in English)
    with translation.override("en"):
        imp = run_upload(xlsx_upload(rows))
    # then one review is created and the three others are reported with their row and reason
    assert (imp.created_count, imp.skipped_count) == (1, 3)
    assert [s["row"] for s in imp.skipped] == [3, 4, 5]
    assert imp.skipped[0]["field"] == "reviewed_at"
    assert imp.skipped[1]["reason"] == "评价星级: '优秀' is not a rating"


def test_unreadable_file_fails_with_nothing_written(manager, shop, django_capture_on_commit_callbacks):
    # given a confirmed import whose stored file turns out to be damaged before the worker reads it
    upload = xlsx_upload([review_row(1)])
    imp = review_services.create_import(actor=manager, shop_id=shop.pk, uploaded_file=upload)
    with django_capture_on_commit_callbacks(execute=False):
        review_services.confirm_import(actor=manager, import_id=imp.pk, columns=imp.columns)
    with imp.file.open("wb") as fh:
        fh.write(b"PK\x03\x04 truncated zip")
    # when the worker runs the task
    run_review_import_task(imp.pk)
    imp.refresh_from_db()
    # then the import failed with a message, and nothing was imported
    assert imp.status == "failed" and imp.error
    assert Review.objects.count() == 0
    # and running it again changes nothing
    run_review_import_task(imp.pk)
    assert ReviewImport.objects.get(pk=imp.pk).status == "failed"


def test_follow_up_added_later(run_upload):
    # given an imported review without a 追评
    run_upload(xlsx_upload([review_row(1, stars=2, text="声音大")]))
    # when a later export carries its 追评
    imp = run_upload(xlsx_upload([review_row(1, stars=2, text="声音大", follow_up="用了一周更吵了")]))
    # then the known review gets the follow-up (counted as updated), with its own feedback item
    assert (imp.created_count, imp.updated_count, imp.duplicate_count) == (0, 1, 0)
    review = Review.objects.get()
    assert review.follow_up_content == "用了一周更吵了"
    assert FeedbackItem.objects.filter(source_key=f"review:{review.pk}:follow_up").exists()


def test_rule_creates_exactly_one_ticket_per_bad_review(run_upload, manager, shop, team):
    # given a default rule: 差评 become tickets for the e-commerce team, 中评 do not
    review_rules.save_review_rule(
        actor=manager,
        shop_id=None,
        team_id=team.pk,
        on_bad=True,
        on_neutral=False,
        on_negative_follow_up=True,
    )
    rows = [review_row(1, stars=1, text="制氧机噪音太大，退货"), review_row(2, stars=3), review_row(3)]
    # when the export is imported twice
    run_upload(xlsx_upload(rows))
    run_upload(xlsx_upload(rows))
    # then exactly one ticket was opened, for the bad review, on the JD channel and the rule's team
    ticket = Ticket.objects.get()
    review = Review.objects.get(rating=1)
    assert review.ticket == ticket
    assert (ticket.channel, ticket.team, ticket.shop, ticket.type) == ("jd", team, shop, "complaint")
    assert "制氧机噪音太大" in ticket.subject and "jd_buyer1" in ticket.description
    assert AuditEvent.objects.filter(verb="voc.review_ticket_created").count() == 1
    assert AuditEvent.objects.filter(verb="voc.rule_changed").count() == 1


def test_shop_rule_overrides_the_default(run_upload, manager, shop, team):
    # given a default rule for bad reviews, and the shop's own rule that makes no tickets
    review_rules.save_review_rule(actor=manager, shop_id=None, team_id=team.pk)
    review_rules.save_review_rule(
        actor=manager,
        shop_id=shop.pk,
        team_id=team.pk,
        on_bad=False,
        on_neutral=False,
        on_negative_follow_up=False,
    )
    # when a bad review is imported, then no ticket is opened
    run_upload(xlsx_upload([review_row(1, stars=1, text="差")]))
    assert not Ticket.objects.exists()


def test_permissions_and_file_checks(manager, agent, shop):
    # an agent may not import
    with pytest.raises(PermissionDenied):
        review_services.create_import(actor=agent, shop_id=shop.pk, uploaded_file=csv_upload([review_row(1)]))
    # a picture is refused naming the file
    png = SimpleUploadedFile("a.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00binary", content_type="image/png")
    with pytest.raises(UnsupportedMediaType) as exc:
        review_services.create_import(actor=manager, shop_id=shop.pk, uploaded_file=png)
    assert exc.value.field == "file"
    # a file over 20 MB is refused
    big = SimpleUploadedFile("big.csv", b"a" * (20 * 1024 * 1024 + 1), content_type="text/csv")
    with pytest.raises(LimitExceeded) as exc2:
        review_services.create_import(actor=manager, shop_id=shop.pk, uploaded_file=big)
    assert exc2.value.field == "file"
    assert ReviewImport.objects.count() == 0


def test_confirm_checks_the_mapping(manager, shop):
    imp = review_services.create_import(
        actor=manager, shop_id=shop.pk, uploaded_file=csv_upload([review_row(1)])
    )
    with pytest.raises(ValidationFailed) as exc:
        review_services.confirm_import(actor=manager, import_id=imp.pk, columns={"content": "评价内容"})
    assert exc.value.field == "columns.reviewed_at"
    with pytest.raises(ValidationFailed) as exc2:
        review_services.confirm_import(
            actor=manager, import_id=imp.pk, columns={"reviewed_at": "评价时间", "content": "不存在的列"}
        )
    assert exc2.value.field == "columns.content"
    imp.refresh_from_db()
    assert imp.status == "preview"


def test_saved_mapping_is_used_for_the_next_file(run_upload, manager, shop):
    # given an import where the text came from a column with an unknown header
    headers = ["时间", "星", "买家说", "昵称"]
    rows = [["2026-11-02 10:00", "5", "不错", "a"]]
    imp = review_services.create_import(
        actor=manager, shop_id=shop.pk, uploaded_file=csv_upload(rows, headers=headers)
    )
    assert "content" not in imp.columns
    run_upload(
        csv_upload(rows, headers=headers),
        columns={"reviewed_at": "时间", "rating": "星", "content": "买家说"},
    )
    # when the next file of the shop is uploaded, then the saved mapping is chosen
    nxt = review_services.create_import(
        actor=manager, shop_id=shop.pk, uploaded_file=csv_upload(rows, headers=headers)
    )
    assert nxt.columns["content"] == "买家说" and nxt.columns["rating"] == "星"


def test_demo_jd_export_imports_with_two_skipped_rows(run_upload, product, tmp_path):
    # given the demo's JD export for the oxygen concentrator and a blood-pressure monitor
    from datetime import UTC, datetime

    from kefu.customers.tests.factories import ProductFactory
    from kefu.voc.demo_files import write_jd_export

    bp = ProductFactory(model_number="BP-620", name="血压计")
    path = write_jd_export(
        tmp_path / "jd.xlsx",
        shop_name="康悦京东自营旗舰店",
        products=[product, bp],
        now=datetime(2026, 11, 20, 8, tzinfo=UTC),
    )
    upload = SimpleUploadedFile(path.name, path.read_bytes())
    # when it is imported twice
    imp = run_upload(upload)
    again = run_upload(SimpleUploadedFile(path.name, path.read_bytes()))
    # then ~58 reviews are created, the two bad rows are reported, and the second import adds nothing
    assert imp.status == "done" and imp.skipped_count == 2
    assert imp.created_count == 58
    assert Review.objects.filter(product=product, level="bad", content__contains="吵").exists()
    assert Review.objects.exclude(follow_up_content="").count() >= 2
    assert (again.created_count, again.duplicate_count, again.skipped_count) == (0, 58, 2)


def test_negative_follow_up_opens_one_ticket(run_upload, manager, team):
    # given a rule for negative 追评 only, and an imported 4-star review
    review_rules.save_review_rule(
        actor=manager,
        shop_id=None,
        team_id=team.pk,
        on_bad=False,
        on_neutral=False,
        on_negative_follow_up=True,
    )
    row = review_row(1, stars=4, text="还可以")
    run_upload(xlsx_upload([row]))
    assert not Ticket.objects.exists()
    # when later exports carry a negative 追评 (twice)
    angry = review_row(
        1, stars=4, text="还可以", follow_up="用了一周噪音还是很大，太差了，联系客服也没人管，非常失望"
    )
    run_upload(xlsx_upload([angry]))
    run_upload(xlsx_upload([angry]))
    # then the follow-up item is negative and exactly one ticket is opened for it
    review = Review.objects.get()
    item = FeedbackItem.objects.get(source_key=f"review:{review.pk}:follow_up")
    assert item.polarity == "negative"
    ticket = Ticket.objects.get()
    assert review.follow_up_ticket == ticket and review.ticket is None
    assert ticket.priority == "high"
