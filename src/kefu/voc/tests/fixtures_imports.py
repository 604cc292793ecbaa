"""Scenery for the review-import tests (imported explicitly by those modules, not a conftest)."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from kefu.accounts.tests.factories import TeamFactory, UserFactory
from kefu.customers.tests.factories import ProductFactory, ShopFactory
from kefu.voc.services import reviews as review_services

HEADERS = [
    "商品名称",
    "商品编号",
    "订单编号",
    "评价星级",
    "评价内容",
    "评价时间",
    "追评内容",
    "追评时间",
    "用户昵称",
]


def xlsx_upload(rows, *, headers=HEADERS, name="jd-reviews.xlsx", leading=()) -> SimpleUploadedFile:
    wb = Workbook()
    ws = wb.active
    for row in (*leading, headers, *rows):
        ws.append(list(row))
    out = io.BytesIO()
    wb.save(out)
    return SimpleUploadedFile(name, out.getvalue(), content_type="application/octet-stream")


def csv_upload(rows, *, headers=HEADERS, name="jd-reviews.csv", encoding="utf-8-sig") -> SimpleUploadedFile:
    text = "\n".join(",".join(str(c) for c in r) for r in [headers, *rows]) + "\n"
    return SimpleUploadedFile(name, text.encode(encoding), content_type="text/csv")


def review_row(n, *, stars=5, text="很好用", follow_up="", follow_up_at="", nick=None, when=None):
    return [
        "康悦制氧机 KY-5W 家用",
        "100012345",
        f"30088{n:04d}",
        stars,
        text,
        when or f"2026-11-{(n % 20) + 1:02d} 10:{n % 60:02d}:00",
        follow_up,
        follow_up_at,
        nick or f"jd_buyer{n}",
    ]


@pytest.fixture
def shop(db):
    return ShopFactory(name="康悦京东自营旗舰店", code="jd-self", platform="jd")


@pytest.fixture
def product(db):
    return ProductFactory(model_number="KY-5W", name="制氧机")


@pytest.fixture
def manager(db):
    return UserFactory(username="manager", role="supervisor")


@pytest.fixture
def agent(db):
    return UserFactory(username="agent1", role="agent")


@pytest.fixture
def team(db):
    return TeamFactory(name="电商客服")


@pytest.fixture
def run_upload(manager, shop, django_capture_on_commit_callbacks):
    """run_upload(file) → the finished import: uploaded, confirmed with the auto mapping, and run by
    the real Huey task (immediate in tests) when the confirmation commits."""

    def run(upload, *, columns=None):
        imp = review_services.create_import(actor=manager, shop_id=shop.pk, uploaded_file=upload)
        with django_capture_on_commit_callbacks(execute=True):
            review_services.confirm_import(actor=manager, import_id=imp.pk, columns=columns or imp.columns)
        imp.refresh_from_db()
        return imp

    return run
