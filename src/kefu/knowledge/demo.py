"""The demo handbook (客服宝典): articles with question variants for agents and the help center, standard
replies with placeholders, dictionary words and synonyms. Idempotent: articles and replies are found by
title before they are written."""

from __future__ import annotations

from typing import Any

from kefu.accounts.models import Team, User
from kefu.accounts.services import get_system_user
from kefu.customers.models import Product
from kefu.knowledge.models import Article, ArticleCategory, DictionaryWord, StandardReply, SynonymGroup

CATEGORIES = ["呼吸健康", "血压与家用医疗", "订单、物流与售后", "内部规范"]

# (title, category, audience, language, product models, variants, body)
ARTICLES: list[tuple[str, str, str, str, list[str], list[str], str]] = [
    (
        "制氧机运行噪音大怎么办",
        "呼吸健康",
        "public",
        "zh-hans",
        ["KY-3A", "KY-5W", "KY-8W"],
        ["制氧机声音很大", "氧气机噪音大", "制氧机晚上太吵睡不着", "制氧机嗡嗡响", "制氧机有异响"],
        "制氧机工作时压缩机会发出 45 分贝左右的声音，属于正常范围。如果噪音明显变大，请按下面的步骤检查：\n\n"
        "1. **放置位置**：放在平整、坚硬的地面上，机身四周离墙 20 厘米以上，不要放在地毯或木箱上。\n"
        "2. **过滤棉**：取下机身侧面的进气过滤棉，用清水洗净、晾干后装回（建议每周一次）。\n"
        "3. **湿化瓶**：检查湿化瓶是否拧紧，水位是否在两条刻度线之间。\n\n"
        "以上检查后仍有“咔咔”或金属摩擦声，可能是压缩机减震垫老化，请联系客服预约上门检测，保修期内免费。",
    ),
    (
        "制氧机氧浓度低于 90% 的排查",
        "呼吸健康",
        "public",
        "zh-hans",
        ["KY-3A", "KY-5W", "KY-8W", "YU300", "YU600"],
        ["制氧机氧浓度不够", "氧浓度只有80%", "制氧机出氧浓度低", "吸氧浓度不达标"],
        "开机后请等待 10 分钟再看氧浓度，刚开机时浓度偏低是正常的。\n\n"
        "- 流量调得过大（超过额定流量）会让浓度下降，请调回 1–3 升/分钟再看；\n"
        "- 进气过滤棉堵塞会影响分子筛工作，请清洗过滤棉；\n"
        "- 海拔高于 1,500 米的地区浓度会略低。\n\n"
        "如果 30 分钟后浓度仍低于 82%，机器会报警，可能需要更换分子筛，请联系客服报修。",
    ),
    (
        "制氧机报警灯一直亮",
        "呼吸健康",
        "public",
        "zh-hans",
        ["KY-3A", "KY-5W", "KY-8W"],
        ["制氧机红灯亮", "制氧机一直报警", "制氧机滴滴响"],
        "报警灯常亮通常表示氧浓度低或气路堵塞。请先关机，检查湿化瓶和吸氧管有无折弯、堵塞，"
        "清洗过滤棉后重新开机。仍然报警请记下指示灯颜色和闪烁方式，联系客服。",
    ),
    (
        "血压计测量值比医院高",
        "血压与家用医疗",
        "public",
        "zh-hans",
        ["BP-620", "BP-680", "BP-690AF"],
        ["血压计测得比医院高", "量血压不准", "血压计数值偏高", "家里测的血压比医院高20"],
        "测量前请静坐 5 分钟，袖带与心脏保持同一高度，袖带下缘在肘窝上方 1–2 厘米，测量时不要说话或移动。"
        "建议连续测量 3 次，每次间隔 1–2 分钟，取平均值。"
        "医院测量时常有“白大衣效应”，两者相差 5–10 mmHg 属正常。",
    ),
    (
        "血压计显示 E2 错误",
        "血压与家用医疗",
        "public",
        "zh-hans",
        ["BP-620", "BP-680"],
        ["血压计报错E2", "血压计一测量就报错", "血压计出现E2"],
        "E2 表示袖带未充气或漏气。请检查气管是否插紧、袖带是否绑得过松，然后重新测量。"
        "若袖带有破损，可在官方商城购买原装袖带。",
    ),
    (
        "如何申请退款",
        "订单、物流与售后",
        "public",
        "zh-hans",
        [],
        ["怎么退款", "我要退钱", "退货退款流程", "不想要了能退吗", "七天无理由怎么退"],
        "未发货的订单可在订单详情页直接申请退款，1–3 个工作日原路退回。已签收的商品支持七天无理由退货"
        "（医疗器械拆封后除外），请在订单详情页提交退货申请并按提示寄回，仓库签收后 3 个工作日内退款。",
    ),
    (
        "发货时间与物流查询",
        "订单、物流与售后",
        "public",
        "zh-hans",
        [],
        ["什么时候发货", "快递到哪了", "怎么查物流", "还没发货", "物流一直不更新"],
        "当天 16:00 前付款的订单当天发货，其余次日发货（节假日顺延）。"
        "发货后可在订单详情页查看快递单号和物流进度。"
        "物流超过 48 小时未更新，请联系客服为您催件。",
    ),
    (
        "保修政策与保修期",
        "订单、物流与售后",
        "public",
        "zh-hans",
        [],
        ["保修多久", "过保了能修吗", "保修期怎么算", "坏了免费修吗"],
        "主机保修 3 年、配件保修 1 年，自签收之日起计算。保修期内非人为损坏免费维修；过保后提供有偿维修，"
        "先报价后维修。",
    ),
    (
        "上门维修预约流程（坐席）",
        "内部规范",
        "internal",
        "zh-hans",
        [],
        ["怎么给客户约上门", "上门维修怎么派单"],
        "1. 核实客户姓名、电话、地址和产品型号；\n2. 在工单中把类型改为“报修”，填写购买渠道和保修期内；\n"
        "3. 转交“售后技术组”，回复时限选 24 小时；\n4. 告知客户工程师会在 24 小时内电话联系预约时间。",
    ),
    (
        "投诉升级处理规范（坐席）",
        "内部规范",
        "internal",
        "zh-hans",
        [],
        ["客户要投诉怎么办", "投诉怎么升级"],
        "客户明确表示投诉时，工单类型改为“投诉”，优先级至少为“高”。30 分钟内无法解决的，转交组长；"
        "涉及人身安全或媒体曝光风险的，立即电话通知客服主管。",
    ),
    (
        "My oxygen concentrator is noisy",
        "呼吸健康",
        "public",
        "en",
        ["KY-3A", "KY-5W", "KY-8W"],
        ["oxygen concentrator loud noise", "concentrator makes a humming sound"],
        "Place the unit on a flat, hard floor at least 20 cm from walls, wash the intake filter and check "
        "that the humidifier bottle is screwed tight. If you still hear clicking or grinding, contact us for "
        "a free home visit within the warranty.",
    ),
    (
        "How do I get a refund?",
        "订单、物流与售后",
        "public",
        "en",
        [],
        ["refund my order", "return and refund"],
        "Orders not yet shipped can be refunded from the order page within 1–3 working days. Delivered items "
        "can be returned within seven days (opened medical devices excepted).",
    ),
]

# (title, team name or "" for shared, body)
REPLIES: list[tuple[str, str, str]] = [
    ("开场问候", "", "您好{customer.name}，我是客服{agent.name}，很高兴为您服务，请问有什么可以帮您？"),
    (
        "制氧机噪音处理",
        "",
        "{customer.name}您好，关于您反馈的制氧机噪音问题（工单 {ticket.number}），请先把机器放在平整地面、"
        "离墙 20 厘米以上，并清洗进气过滤棉。如果仍有异响，我们为您免费安排上门检测。",
    ),
    (
        "退款说明",
        "",
        "{customer.name}您好，未发货订单可在订单详情页直接申请退款，1–3 个工作日原路退回；"
        "已签收商品请提交退货申请，仓库签收后 3 个工作日内退款。",
    ),
    ("物流催件", "", "{customer.name}您好，已为您联系快递公司催件，预计 24 小时内更新物流信息，请您留意。"),
    (
        "上门维修预约",
        "一线热线组",
        "{customer.name}您好，已为您登记上门维修（工单 {ticket.number}），工程师将在 24 小时内致电预约时间。",
    ),
    ("结束语", "", "感谢您的耐心，如还有其他问题随时联系我们，祝您生活愉快！——客服{agent.name}"),
]

WORDS = ["氧浓度", "分子筛", "湿化瓶", "流量计", "过滤棉", "上门维修", "七天无理由", "白大衣效应"]
SYNONYMS = ["制氧机,氧气机,吸氧机", "退款,退钱", "物流,快递", "噪音,噪声"]


def _editor() -> User:
    return User.objects.filter(username="editor").first() or get_system_user()


def ensure_demo_knowledge() -> str:
    from kefu.knowledge import services

    editor = _editor()
    made: dict[str, int] = {"articles": 0, "replies": 0, "words": 0, "synonyms": 0}
    for word in WORDS:
        made["words"] += DictionaryWord.objects.get_or_create(word=word)[1]
    for terms in SYNONYMS:
        made["synonyms"] += SynonymGroup.objects.get_or_create(terms=terms)[1]
    categories = {}
    for position, name in enumerate(CATEGORIES):
        categories[name], _ = ArticleCategory.objects.get_or_create(
            name=name, parent=None, defaults={"position": position}
        )
    for title, category, audience, language, models, variants, body in ARTICLES:
        if Article.objects.filter(title=title).exists():
            continue
        fields: dict[str, Any] = {
            "title": title,
            "body": body,
            "variants": variants,
            "category_id": categories[category].pk,
            "product_ids": list(Product.objects.filter(model_number__in=models).values_list("id", flat=True)),
            "audience": audience,
            "status": "published",
            "language": language,
        }
        services.save_article(actor=editor, **fields)
        made["articles"] += 1
    teams = {t.name: t.pk for t in Team.objects.all()}
    for title, team, body in REPLIES:
        if StandardReply.objects.filter(title=title).exists():
            continue
        services.save_reply(
            actor=editor, title=title, body=body, team_id=teams.get(team), category_id=None, is_active=True
        )
        made["replies"] += 1
    return "knowledge: " + ", ".join(f"{n} {k}" for k, n in made.items())
