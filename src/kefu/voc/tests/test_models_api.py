"""The text-model API: analyze (200/422/403), model versions, retrain (202/403/409)."""

from __future__ import annotations

import pytest

from kefu.accounts.tests.factories import UserFactory
from kefu.core import clock
from kefu.voc.models import TaxonomyNode, TextModel
from kefu.voc.textmodels import predict, rules

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_caches():
    rules.clear_cache()
    predict.clear_cache()


@pytest.fixture
def noise():
    now = clock.now()
    product = TaxonomyNode.objects.create(kind="cause", name="产品", level=1, created_at=now, updated_at=now)
    return TaxonomyNode.objects.create(
        kind="cause",
        name="噪音",
        parent=product,
        level=2,
        keywords="噪音\n吵",
        created_at=now,
        updated_at=now,
    )


def test_analyze_returns_sentiment_cause_and_terms(api, noise):
    # given an agent's token
    client = api(UserFactory(role="agent"))
    # when two texts are analyzed
    r = client.post("voc/analyze", {"texts": ["噪音太大，很失望", "颜色好看，非常满意"]})
    # then each has a sentiment and, where a keyword matched, a cause with its path
    assert r.status_code == 200, r.content
    first, second = r.json()["results"]
    assert first["polarity"] == "negative" and first["sentiment"] < 0 and first["terms"]
    assert first["cause"]["id"] == noise.pk and first["cause"]["path"].endswith("噪音")
    assert first["cause"]["source"] == "rule" and first["cause"]["terms"] == ["噪音"]
    assert second["polarity"] == "positive" and second["cause"] is None and second["touchpoint"] is None


@pytest.mark.parametrize(
    ("texts", "field"),
    [([], "texts"), (["好"] * 1001, "texts"), (["好", "x" * 5001], "texts[1]"), ([1], "texts.0")],
)
def test_analyze_refuses_bad_input_naming_the_field(api, texts, field):
    r = api(UserFactory(role="agent")).post("voc/analyze", {"texts": texts})
    assert r.status_code == 422
    assert r.json()["field"] == field


def test_analyze_needs_sign_in(api):
    assert api().post("voc/analyze", {"texts": ["好"]}).status_code == 401


def test_retrain_202_for_supervisors_403_for_agents(api, django_capture_on_commit_callbacks):
    # given an agent
    r = api(UserFactory(role="agent")).post("voc/models/sentiment/retrain")
    # then retraining is refused and no version exists
    assert r.status_code == 403 and not TextModel.objects.exists()
    # when a supervisor asks
    with django_capture_on_commit_callbacks(execute=True):  # the worker runs the job after commit
        r = api(UserFactory(role="supervisor")).post("voc/models/sentiment/retrain")
    # then a version is accepted for training (without labels it fails, saying why)
    assert r.status_code == 202, r.content
    body = r.json()
    assert body["kind"] == "sentiment" and body["version"] == 1 and body["status"] == "training"
    listed = api(UserFactory(role="agent")).get("voc/models").json()
    assert [(m["version"], m["status"]) for m in listed] == [(1, "failed")]
    assert "20" in listed[0]["error"]  # the message says at least 20 labels are needed


def test_retrain_unknown_kind_is_422(api):
    r = api(UserFactory(role="admin")).post("voc/models/mood/retrain")
    assert r.status_code == 422 and r.json()["field"] == "kind"
