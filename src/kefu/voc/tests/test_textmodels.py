"""Text models: the lexicon, the keyword rules, training versions against the held-out slice, relabelling.

The labelled texts below are written for these tests (short made-up reviews), never taken from the
development data."""

from __future__ import annotations

import itertools

import pytest

from kefu.accounts.tests.factories import UserFactory
from kefu.audit.models import AuditEvent
from kefu.core import clock
from kefu.core.errors import PermissionDenied
from kefu.voc import textmodels
from kefu.voc.models import FeedbackItem, TaxonomyNode, TextModel
from kefu.voc.services import models as model_services
from kefu.voc.services.feedback import record_feedback
from kefu.voc.textmodels import examples, features, lexicon, predict, rules, training

pytestmark = pytest.mark.django_db

_n = itertools.count()

POSITIVE = [
    "送货很快，包装完好，非常满意",
    "质量很好，做工精细，推荐购买",
    "客服态度好，耐心解答，五星好评",
    "用了一周，效果明显，很喜欢",
    "安装师傅很专业，服务周到",
    "性价比高，物超所值，会回购",
    "外观漂亮，声音很小，值得推荐",
    "物流神速，第二天就到了，赞",
    "东西不错，和描述一样，满意",
    "很好用，操作简单，家里老人也会用",
    "包装精美，送人很有面子，好评",
    "售后响应及时，问题很快解决了，感谢",
    "制氧机运行安静，老人用着放心",
    "净水器出水快，味道好，推荐",
    "做工扎实，质量可靠，超出预期",
    "价格实惠，发货迅速，好评",
    "产品很棒，说明书清楚，满意",
    "客服小姐姐很热情，点赞",
    "第二次购买了，一如既往的好",
    "电池耐用，充电快，喜欢",
    "颜色正，尺寸合适，很满意",
    "配送员很有礼貌，送货上门，赞",
    "功能齐全，性能稳定，值得",
    "音质清晰，佩戴舒适，推荐",
    "到货快，没有异味，好评",
    "机器静音效果好，睡觉不受影响",
    "师傅上门准时，安装干净利落",
    "很实用的东西，买对了",
    "服务一流，体验很好",
    "宝贝收到了，非常喜欢，谢谢卖家",
]
NEGATIVE = [
    "噪音太大，晚上根本睡不着",
    "用了三天就坏了，质量太差",
    "客服不回复，态度恶劣，差评",
    "发货太慢，等了一个星期",
    "收到的东西有划痕，像是二手的",
    "漏液严重，要求退货",
    "有很大的异味，不敢用",
    "和描述不符，感觉被骗了",
    "快递员态度很差，东西扔在门口",
    "开机就报故障，联系售后没人理",
    "包装破损，里面的零件也坏了",
    "价格比别家贵很多，不划算",
    "制氧机声音特别吵，失望",
    "安装师傅迟到两个小时，还乱收费",
    "说明书看不懂，操作太复杂",
    "用了一次就不能充电了，垃圾",
    "物流信息一直不更新，太慢了",
    "颜色和图片差别很大，不喜欢",
    "退款申请了一周还没处理，投诉",
    "做工粗糙，边角有毛刺，割手",
    "电池不耐用，半天就没电",
    "屏幕有坏点，换货又要等",
    "发错货了，联系客服也不管",
    "机器震动很大，噪音刺耳",
    "净水器漏水，把地板泡了",
    "到手就是坏的，差评",
    "客服敷衍，一直推诿",
    "味道很难闻，退货",
    "配送太慢，饭都凉了",
    "质量问题频出，再也不买了",
]


def _item(text: str, **labels) -> FeedbackItem:
    key = f"test:{next(_n)}"
    item = record_feedback(source="ticket_created", source_key=key, text=text, occurred_at=clock.now())
    assert item is not None
    if labels:
        FeedbackItem.objects.filter(pk=item.pk).update(**labels)
        item.refresh_from_db()
    return item


def _label_sentiment(texts: list[str], polarity: str) -> list[FeedbackItem]:
    score = {"positive": 0.8, "negative": -0.8, "neutral": 0.0}[polarity]
    return [_item(t, sentiment=score, polarity=polarity, sentiment_source="person") for t in texts]


@pytest.fixture(autouse=True)
def _fresh_caches():
    rules.clear_cache()
    predict.clear_cache()
    yield
    rules.clear_cache()
    predict.clear_cache()


@pytest.fixture
def train(supervisor, django_capture_on_commit_callbacks):
    """train(kind) → the version, after the worker ran it (tasks run inline on commit in tests)."""

    def run(kind):
        with django_capture_on_commit_callbacks(execute=True):
            model = model_services.request_training(actor=supervisor, kind=kind)
        model.refresh_from_db()
        return model

    return run


@pytest.fixture
def supervisor():
    return UserFactory(role="supervisor")


def _node(kind, name, parent=None, keywords=""):
    now = clock.now()
    return TaxonomyNode.objects.create(
        kind=kind,
        name=name,
        parent=parent,
        level=(parent.level + 1) if parent else 1,
        keywords=keywords,
        created_at=now,
        updated_at=now,
    )


@pytest.fixture
def causes():
    product = _node("cause", "产品", keywords="质量")
    noise = _node("cause", "噪音", product, keywords="噪音\n吵\n声音")
    leak = _node("cause", "漏液", product, keywords="漏液\n漏水")
    logistics = _node("cause", "物流", keywords="快递\n物流\n发货")
    return {"product": product, "noise": noise, "leak": leak, "logistics": logistics}


# --- lexicon -----------------------------------------------------------------------------------
def test_lexicon_polarity_negation_and_degree():
    # given plain, negated and intensified reviews; when scored; then negation flips the word
    assert lexicon.analyze_text("质量很好，非常满意").polarity == "positive"
    assert lexicon.analyze_text("不满意").polarity == "negative"
    assert lexicon.analyze_text("不是很满意").polarity == "negative"
    assert lexicon.analyze_text("没有异味，很安静").polarity == "positive"
    assert lexicon.analyze_text("噪音太大，失望").sentiment < lexicon.analyze_text("有点吵").sentiment < 0
    assert lexicon.analyze_text("收到了").confidence == 0.0


def test_lexicon_clause_after_but_weighs_more():
    # given praise then a complaint after 但是 (and the other way round)
    first = lexicon.analyze_text("外观不错，但是噪音太大")
    second = lexicon.analyze_text("噪音有点大，但是质量很好")
    # then the clause after the contrast decides
    assert first.polarity == "negative" and "太大" not in first.terms
    assert second.polarity == "positive"
    # and 快递 is no 快
    assert lexicon.analyze_text("快递很慢").polarity == "negative"


# --- rules -------------------------------------------------------------------------------------
def test_rules_pick_the_deepest_matching_node_and_follow_changes(causes):
    # given a cause tree with keywords
    noise, product = causes["noise"], causes["product"]
    # when texts mention a subcategory's keyword, only the parent's, or nothing
    deep, top, none = rules.match(["质量一般，噪音太大很吵", "质量不行", "颜色好看"], "cause")
    # then the subcategory wins, the parent stays the parent, nothing matches nothing
    assert deep.node_id == noise.pk and {"噪音", "吵"} <= set(deep.terms)
    assert top.node_id == product.pk
    assert none.node_id is None
    assert deep.confidence > top.confidence
    # when the taxonomy changes, the cached keywords follow
    TaxonomyNode.objects.filter(pk=noise.pk).update(keywords="嗡嗡", updated_at=clock.now())
    assert rules.match(["噪音太大"], "cause")[0].node_id != noise.pk
    assert rules.match(["一直嗡嗡响"], "cause")[0].node_id == noise.pk


def test_analyze_uses_lexicon_and_rules_out_of_the_box(causes):
    (a,) = textmodels.analyze(["制氧机漏液，太失望了"])
    assert a.polarity == "negative" and a.sentiment < 0 and a.sentiment_source == "rule"
    assert a.cause.node_id == causes["leak"].pk and a.cause.source == "rule" and a.cause.terms == ["漏液"]
    assert a.touchpoint.node_id is None


# --- training ----------------------------------------------------------------------------------
def test_held_out_slice_is_deterministic():
    keys = [f"item:{i}" for i in range(1000)]
    held = [k for k in keys if training.is_held_out(k)]
    assert held == [k for k in keys if training.is_held_out(k)]
    assert 150 < len(held) < 250


def test_too_few_labels_fails_with_a_message(train):
    # given only three labelled items
    _label_sentiment(POSITIVE[:2], "positive")
    _label_sentiment(NEGATIVE[:1], "negative")
    # when a retrain is requested (the worker runs it on commit)
    model = train("sentiment")
    # then the version failed, saying why, and nothing is in use
    assert model.status == "failed" and "20" in model.error  # "at least 20 … examples"
    assert not TextModel.objects.filter(status="active").exists()


def test_request_training_needs_the_models_permission():
    agent = UserFactory(role="agent")
    with pytest.raises(PermissionDenied):
        model_services.request_training(actor=agent, kind="sentiment")
    assert not TextModel.objects.exists()


def test_sentiment_model_is_compared_with_the_lexicon(train):
    # given 60 labelled items (30 positive, 30 negative)
    _label_sentiment(POSITIVE, "positive")
    _label_sentiment(NEGATIVE, "negative")
    data = examples.collect("sentiment")
    assert data.total == 60 and data.test_texts
    # when a version is trained
    v1 = train("sentiment")
    # then its held-out accuracy is compared with the lexicon's on the same slice
    assert v1.status in ("active", "rejected")
    assert v1.n_test == len(data.test_texts) and v1.baseline_accuracy is not None
    assert (v1.status == "active") == (v1.accuracy > v1.baseline_accuracy)
    verbs = list(
        AuditEvent.objects.filter(subject_id=v1.pk, subject_type="textmodel").values_list("verb", flat=True)
    )
    assert "voc.model_trained" in verbs
    assert ("voc.model_activated" if v1.status == "active" else "voc.model_rejected") in verbs
    assert v1.report["top_terms"]["negative"] and v1.report["per_class"]["positive"]["support"] >= 1
    # the same held-out slice for the next version
    assert examples.collect("sentiment").test_texts == data.test_texts


def test_version_is_rejected_when_not_better(train):
    # given the labels and a first version in use
    _label_sentiment(POSITIVE, "positive")
    _label_sentiment(NEGATIVE, "negative")
    v1 = train("sentiment")
    TextModel.objects.filter(pk=v1.pk).update(status="active")
    # when the next version is trained on the same labels, it cannot beat the same model
    v2 = train("sentiment")
    # then it is kept, rejected, with its figures; v1 stays in use
    assert v2.version == 2 and v2.status == "rejected"
    assert v2.accuracy == v2.baseline_accuracy and v2.artifact
    assert TextModel.objects.get(status="active").pk == v1.pk
    assert AuditEvent.objects.filter(verb="voc.model_rejected", subject_id=v2.pk).exists()


def test_cause_model_activation_relabels_but_keeps_person_labels(train, causes):
    # given items labelled by people with two causes, and one unlabelled item
    noise, logistics = causes["noise"], causes["logistics"]
    for t in ["晚上嗡嗡响睡不着", "机器轰鸣", "响声刺耳", "一开就轰轰的", "运转时很闹"] * 3:
        _item(t, cause=noise, cause_source="person")
    for t in ["三天还没送到", "包裹丢了", "配送员没打电话", "运单一直不更新", "送货太晚"] * 3:
        _item(t, cause=logistics, cause_source="person")
    kept = _item("运单一直不更新", cause=noise, cause_source="person")
    other = _item("包裹丢了两次")
    # when a cause model is trained and beats the keyword rules
    model = train("cause")
    assert model.status == "active", model.error or model.report
    assert model.baseline_accuracy < model.accuracy
    # then unlabelled items are relabelled by the model, people's labels stay
    other.refresh_from_db()
    kept.refresh_from_db()
    assert other.cause_id == logistics.pk and other.cause_source == "model"
    assert other.model_versions["cause"] == model.pk
    assert kept.cause_id == noise.pk and kept.cause_source == "person"
    # and analyze() explains with the terms that weighed most
    (a,) = textmodels.analyze(["包裹丢了"])
    assert a.cause.node_id == logistics.pk and a.cause.source == "model" and a.cause.terms


def test_artifact_round_trip_predicts_the_same():
    texts = POSITIVE + NEGATIVE
    labels = ["positive"] * 30 + ["negative"] * 30
    artifact = training.fit(texts, labels)
    again = training.loads(training.dumps(artifact))
    feats = features.featurize(["噪音太大，失望", "非常满意"])
    a = predict.predict(artifact, feats)
    b = predict.predict(again, feats)
    assert [p.label for p in a] == [p.label for p in b] == ["negative", "positive"]
    assert a[0].terms and a[0].terms == b[0].terms


def test_maybe_retrain_waits_for_enough_new_labels(supervisor):
    _label_sentiment(POSITIVE[:5], "positive")
    assert model_services.maybe_retrain("sentiment") is None  # fewer than MIN_LABELS
    _label_sentiment(POSITIVE[5:15], "positive")
    _label_sentiment(NEGATIVE[:10], "negative")
    model = model_services.maybe_retrain("sentiment")
    assert model is not None and model.version == 1
    # nothing new since: no new version
    assert model_services.maybe_retrain("sentiment") is None


def test_labelling_event_starts_a_retrain_once_enough_labels_exist(django_capture_on_commit_callbacks):
    from kefu.core.events import Event
    from kefu.voc.textmodels.tasks import on_feedback_labelled

    # given enough person labels of sentiment, and none of cause
    _label_sentiment(POSITIVE[:12], "positive")
    _label_sentiment(NEGATIVE[:12], "negative")
    # when people's labelling is reported
    with django_capture_on_commit_callbacks(execute=True):
        on_feedback_labelled(Event(verb="voc.feedback_labelled", data={"kinds": ["sentiment", "cause"]}))
    # then a sentiment version was trained, and no cause version (no labels)
    assert list(TextModel.objects.values_list("kind", "version")) == [("sentiment", 1)]
    assert TextModel.objects.get().status != "training"


def test_a_cause_model_does_not_force_unrelated_text_into_its_classes(train, causes):
    # given a cause model learned from two causes only
    noise, logistics = causes["noise"], causes["logistics"]
    for t in ["晚上嗡嗡响睡不着", "机器轰鸣", "响声刺耳", "一开就轰轰的", "运转时很闹"] * 3:
        _item(t, cause=noise, cause_source="person")
    for t in ["三天还没送到", "包裹丢了", "配送员没打电话", "运单一直不更新", "送货太晚"] * 3:
        _item(t, cause=logistics, cause_source="person")
    assert train("cause").status == "active"
    # when a text about neither is analyzed
    unrelated, leaking = textmodels.analyze(["今天天气不错", "电池漏液了"])
    # then the model's guess is not used: no cause, or the keyword rules' one
    assert unrelated.cause.node_id is None
    assert leaking.cause.node_id == causes["leak"].pk and leaking.cause.source == "rule"
