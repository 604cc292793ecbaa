"""The closed loop's demo (`kefu seed-demo`, after the voice-of-customer demo made its insights):
the top insight (the 制氧机 noise spike) becomes an action for quality control; a slow-delivery
insight one for logistics, already committed by owner_logistics; and an older quality action whose
committed date passed has climbed to the department head. Idempotent: nothing when actions exist."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q

from kefu.accounts.models import Department, User
from kefu.core import clock
from kefu.loops.choices import EscalationLevel, MetricKind
from kefu.loops.models import ImprovementAction, LoopSettings
from kefu.loops.services.actions import add_comment, commit_date, create_action, transition_action
from kefu.loops.services.escalation import process_action, step_times
from kefu.voc.models import Insight

log = logging.getLogger(__name__)


def _user(*names: str) -> User | None:
    for name in names:
        user = User.objects.filter(username=name, is_active=True).first()
        if user is not None:
            return user
    return User.objects.filter(is_superuser=True, is_active=True).order_by("id").first()


def _from_insight(actor: User, insight: Insight, department: Department, **kw: Any) -> ImprovementAction:
    problem = "、".join(insight.key_phrases) or insight.title
    return create_action(
        actor=actor,
        title=insight.title[:200],
        problem=f"{insight.item_count} 条负面反馈（本周 {insight.this_week} 条）：{problem}",
        department_id=department.pk,
        source="insight",
        insight_id=insight.pk,
        metric=MetricKind.NEGATIVE_REVIEW_RATE if insight.product_id else MetricKind.COMPLAINT_VOLUME,
        **kw,
    )


def _logistics_insight() -> Insight | None:
    for q in (Q(cause__name="配送慢"), Q(cause__parent__name="物流") | Q(title__contains="物流")):
        found = Insight.objects.filter(q).order_by("-impact", "id").first()
        if found is not None:
            return found
    return None


def _overdue_action(actor: User, qc: Department, now: datetime) -> ImprovementAction | None:
    """An action created weeks ago and committed for a date such that, now, the ladder stands at the
    department head (found by trying dates: the calendar decides which one)."""
    settings = LoopSettings.load()
    head = qc.head or actor
    today = now.astimezone(clock.local_tz()).date()
    for back in range(1, 30):
        fix = today - timedelta(days=back)
        probe = ImprovementAction(status="accepted", committed_date=fix)
        times = step_times(probe, settings)
        if times[EscalationLevel.DEPARTMENT_HEAD] <= now < times[EscalationLevel.EXECUTIVE]:
            break
    else:
        return None
    created = datetime.combine(fix - timedelta(days=21), datetime.min.time(), clock.local_tz()).replace(
        hour=10
    )
    with clock.replaying_at(created):
        action = create_action(
            actor=actor,
            title="血压计 BP-620 袖带漏气",
            problem="袖带漏气导致测量失败，返修单集中在同一批次。",
            department_id=qc.pk,
            metric=MetricKind.COMPLAINT_VOLUME,
            milestones=[{"title": "供应商来料抽检"}, {"title": "更换袖带批次"}],
        )
    with clock.replaying_at(created + timedelta(days=1)):
        commit_date(actor=head, action_id=action.pk, date=fix)
        transition_action(actor=head, action_id=action.pk, to="in_progress")
    process_action(action.pk, now)
    return action


VERIFIED_PRODUCT = "KY-3A"


def _review(shop: Any, product: Any, n: int, at: datetime, bad: bool) -> None:
    from kefu.voc.models import Review

    Review.objects.get_or_create(
        shop=shop,
        dedup_key=f"loops-demo-{n}",
        defaults={
            "platform": shop.platform,
            "rating": 1 if bad else 5,
            "level": "bad" if bad else "good",
            "content": "包装破损，外壳磕坏了" if bad else "包装结实，机器完好",
            "reviewed_at": at,
            "product": product,
            "product_name": str(product),
            "sku": product.model_number,
            "created_at": at,
            "updated_at": at,
        },
    )


def _verified_action(actor: User, logistics: Department, now: datetime) -> ImprovementAction | None:
    """A fix that worked: 制氧机 KY-3A arrived damaged (差评率 about 20 % on Tmall in the four weeks
    before the action); logistics changed the packaging; in the month after, 差评率 fell to about 3 %,
    and verification found it significant."""
    from kefu.customers.models import Product, Shop
    from kefu.loops.services.verification import start_verification, verify_due_actions

    product = Product.objects.filter(model_number=VERIFIED_PRODUCT).first()
    shop = Shop.objects.filter(platform="tmall").order_by("id").first()
    owner = _user("owner_logistics")
    if product is None or shop is None or owner is None:
        return None
    tz = clock.local_tz()
    today = now.astimezone(tz).date()
    created = datetime.combine(today - timedelta(days=45), datetime.min.time(), tz).replace(hour=10)
    implemented = created + timedelta(days=10)
    # before: 60 reviews over the 4 weeks before the action, 12 of them 差评; after: 80 over the
    # month after the fix, 2 差评
    for n in range(60):
        _review(shop, product, n, created - timedelta(days=28) + timedelta(hours=11 * n), bad=n % 5 == 0)
    for n in range(80):
        _review(shop, product, 100 + n, implemented + timedelta(hours=8 * n + 3), bad=n in (17, 61))
    with clock.replaying_at(created):
        action = create_action(
            actor=actor,
            title=f"{product.name} {product.model_number} 运输包装破损",
            problem="天猫差评集中在外壳磕坏、包装破损：缓冲材料不足，快递中转时受压。",
            department_id=logistics.pk,
            source="manual",
            metric=MetricKind.NEGATIVE_REVIEW_RATE,
            metric_product_id=product.pk,
            metric_shop_id=shop.pk,
            goal_value=0.05,
            milestones=[{"title": "更换加厚珍珠棉内衬"}, {"title": "外箱改为五层瓦楞纸"}],
        )
    with clock.replaying_at(created + timedelta(hours=5)):
        commit_date(actor=owner, action_id=action.pk, date=implemented.date())
        transition_action(actor=owner, action_id=action.pk, to="in_progress")
    with clock.replaying_at(implemented):
        transition_action(actor=owner, action_id=action.pk, to="implemented")
        start_verification(action.pk, implemented)
    verify_due_actions(now)
    action.refresh_from_db()
    return action


@transaction.atomic
def seed_loops_demo(now: datetime) -> dict[str, int]:
    if ImprovementAction.objects.exists():
        return {"actions": 0}
    actor = _user("supervisor2", "supervisor", "admin")
    qc = Department.objects.filter(code="qc").first()
    logistics = Department.objects.filter(code="logistics").first()
    if actor is None or qc is None:
        return {"actions": 0}
    made = 0
    top = Insight.objects.order_by("-is_spike", "-impact", "id").first()
    if top is not None:
        _from_insight(actor, top, qc, goal_value=0.03)
        made += 1
    slow = _logistics_insight()
    if slow is not None and slow != top:
        action = _from_insight(actor, slow, logistics or qc)
        made += 1
        owner = _user("owner_logistics")
        if logistics is not None and owner is not None and owner.username == "owner_logistics":
            fix = now.astimezone(clock.local_tz()).date() + timedelta(days=14)
            commit_date(actor=owner, action_id=action.pk, date=fix)
            add_comment(
                actor=owner, action_id=action.pk, body="已与快递公司约谈，调整华东仓发货时效，两周内上线。"
            )
    if _overdue_action(actor, qc, now) is not None:
        made += 1
    if logistics is not None and _verified_action(actor, logistics, now) is not None:
        made += 1
    return {"actions": made}


def _risks(actor: User, now: datetime) -> int:
    """The register's first entries: a metric risk tied to the noise spike, a settlement and a system
    risk with a drill."""
    from kefu.loops.models import Risk
    from kefu.loops.services.risks import create_risk, record_drill

    if Risk.objects.exists():
        return 0
    top = ImprovementAction.objects.filter(source="insight").order_by("id").first()
    owner = _user("owner_qc")
    created = [
        create_risk(
            actor=actor,
            title="大促期间制氧机差评率超出平台考核线",
            type="metric",
            likelihood=4,
            impact=4,
            owner_id=owner.pk if owner else None,
            contingency_plan="差评 2 小时内回访；质量问题批次暂停发货；每日向品控通报。",
            insight_ids=[top.insight_id] if top and top.insight_id else [],
            action_ids=[top.pk] if top else [],
        ),
        create_risk(
            actor=actor,
            title="京东平台结算扣款（售后超时罚则）",
            type="settlement",
            likelihood=3,
            impact=3,
            contingency_plan="售后单超时前 4 小时预警，主管每日核对罚则台账。",
        ),
        create_risk(
            actor=actor,
            title="呼叫中心系统宕机",
            type="system",
            likelihood=2,
            impact=5,
            contingency_plan="切换备用线路与纸质登记，30 分钟内恢复受理。",
        ),
    ]
    today = now.astimezone(clock.local_tz()).date()
    record_drill(
        actor=actor,
        risk_id=created[2].pk,
        held_on=today - timedelta(days=20),
        result="备用线路 12 分钟切换完成，纸质登记 46 单全部补录。",
        lessons="补录环节缺少专人，下次演练前指定负责人。",
    )
    return len(created)


def _report(now: datetime) -> None:
    """This week's report so far (the Monday job reports the week before)."""
    from kefu.loops.services.reports import generate_weekly_report

    today = now.astimezone(clock.local_tz()).date()
    generate_weekly_report(week_start=today - timedelta(days=today.weekday()))


def on_demo_seeded(sender: object, now: datetime, **kwargs: object) -> str:
    """The `kefu seed-demo` receiver (connected in kefu.loops.handlers.connect, after the voc one)."""
    made = seed_loops_demo(now)
    actor = _user("supervisor2", "supervisor", "admin")
    risks = _risks(actor, now) if actor is not None else 0
    _report(now)
    return f"Closed loop: {made['actions']} improvement actions, {risks} risks, this week's VoC report"
