"""The text-models page: versions, retrain button by permission, the try-it box."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from kefu.accounts.tests.factories import UserFactory
from kefu.core import clock
from kefu.voc.models import TextModel
from kefu.voc.textmodels import predict, rules

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_caches():
    rules.clear_cache()
    predict.clear_cache()


def _client(role):
    c = Client(HTTP_ACCEPT_LANGUAGE="en")
    c.force_login(UserFactory(role=role))
    return c


def test_page_lists_versions_and_shows_retrain_only_to_model_editors():
    # given a rejected sentiment version
    TextModel.objects.create(
        kind="sentiment", version=1, status="rejected", n_train=40, n_test=9, accuracy=0.5,
        baseline_accuracy=0.6, labels=["negative", "positive"],
        report={"top_terms": {"negative": ["噪音"], "positive": ["满意"]}}, created_at=clock.now(),
    )  # fmt: skip
    # when an agent opens the page
    r = _client("agent").get(reverse("voc:models"))
    # then the history is there, without the retrain button
    assert r.status_code == 200
    html = r.content.decode()
    assert 'data-testid="model-version"' in html and "噪音" in html and "0.600" in html
    assert 'data-testid="retrain-sentiment"' not in html
    # and a supervisor sees the button
    assert 'data-testid="retrain-cause"' in _client("supervisor").get(reverse("voc:models")).content.decode()


def test_retrain_button_creates_a_version(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        r = _client("supervisor").post(reverse("voc:models_retrain", args=["cause"]))
    assert r.status_code == 302
    model = TextModel.objects.get(kind="cause")
    assert model.version == 1 and model.status == "failed"  # no labels yet: it says why
    page = _client("supervisor").get(reverse("voc:models")).content.decode()
    assert 'data-testid="model-error"' in page


def test_agent_may_not_retrain():
    r = _client("agent").post(reverse("voc:models_retrain", args=["cause"]))
    assert r.status_code == 403 and not TextModel.objects.exists()


def test_try_it_box_analyzes_the_text():
    c = _client("agent")
    r = c.post(reverse("voc:models_try"), {"text": "噪音太大，很失望"}, HTTP_HX_REQUEST="true")
    assert r.status_code == 200
    assert 'data-polarity="negative"' in r.content.decode()
    r = c.post(reverse("voc:models_try"), {"text": "  "}, HTTP_HX_REQUEST="true")
    assert r.status_code == 422 and 'data-testid="model-try-error"' in r.content.decode()
