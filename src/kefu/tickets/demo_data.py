"""The demo organization of `kefu seed-demo`: a fictional health-device and home-appliance maker (康悦健康).

Tables, and `ensure_org`/`load_org` to put them in the database and read them back; generating tickets
is in management/commands/seed_demo.py. Ticket text is built from scenarios × products × placeholders
so that thousands of tickets read differently:
`{product}` 制氧机, `{model}` KY-5W, `{fault}` a fault typical of that product, `{days}`, `{order}`,
`{courier}`, `{promo}`, `{amount}`, `{city}`, `{serial}`, `{agent}`, `{part}`, `{date}`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.core.management.base import CommandError
from django.db import transaction
from django.db.models import Q

from kefu.accounts.models import Department, Membership, Team, User
from kefu.customers.models import Product, Shop
from kefu.tickets.models import Category, CustomFieldDefinition, Tag

# Tables are laid out by hand for reading; the formatter would put every item on its own line.
# fmt: off

COMPANY = "康悦健康科技有限公司"
BRAND = "康悦"

# --- organization -------------------------------------------------------------------------------

# (code, name)
DEPARTMENTS = [
    ("cs", "客服中心"),
    ("qc", "品控"),
    ("design", "产品设计"),
    ("sales", "销售"),
    ("logistics", "物流"),
    ("rnd", "技术研发"),
    ("mgmt", "管理层"),
]

VENDOR = "华信智联外包服务有限公司"

# key -> (department code, team name, vendor)
TEAMS = {
    "hotline": ("cs", "一线热线组", ""),
    "online": ("cs", "在线客服组", ""),
    "ecommerce": ("cs", "电商客服组", ""),
    "tier2": ("cs", "二线技术支持组", ""),
    "outsourced": ("cs", "外包热线组", VENDOR),
    "qa": ("cs", "质检组", ""),
    "knowledge": ("cs", "知识库与培训组", ""),
    "qc": ("qc", "品质保障组", ""),
    "design": ("design", "工业设计组", ""),
    "sales": ("sales", "电商运营组", ""),
    "logistics": ("logistics", "仓储配送组", ""),
    "rnd": ("rnd", "售后技术组", ""),
    "mgmt": ("mgmt", "经营管理组", ""),
}

# (username, display name, role, department code, [(team key, is lead)], heads department)
USERS = [
    ("admin", "系统管理员", "admin", "mgmt", [("mgmt", False)], False),
    ("ceo", "王建华", "executive", "mgmt", [("mgmt", True)], True),
    ("vp_cs", "刘雅琴", "executive", "cs", [], True),
    ("supervisor", "陈静", "supervisor", "cs", [("hotline", True), ("outsourced", False)], False),
    ("supervisor2", "赵磊", "supervisor", "cs", [("online", True), ("ecommerce", True)], False),
    ("agent1", "张晓燕", "agent", "cs", [("hotline", False)], False),
    ("agent2", "李明轩", "agent", "cs", [("hotline", False)], False),
    ("agent3", "周婷", "agent", "cs", [("hotline", False)], False),
    ("agent4", "吴佳怡", "agent", "cs", [("online", False)], False),
    ("agent5", "郑浩", "agent", "cs", [("online", False)], False),
    ("agent6", "孙悦", "agent", "cs", [("ecommerce", False)], False),
    ("agent7", "马超", "agent", "cs", [("ecommerce", False)], False),
    ("agent8", "黄志强", "agent", "cs", [("tier2", True)], False),
    ("agent9", "林思远", "agent", "cs", [("tier2", False)], False),
    ("waibao_lead", "何丽娟", "supervisor", "cs", [("outsourced", True)], False),
    ("waibao1", "高敏", "agent", "cs", [("outsourced", False)], False),
    ("waibao2", "罗刚", "agent", "cs", [("outsourced", False)], False),
    ("qa", "谢雨晴", "qa", "cs", [("qa", True)], False),
    ("qa2", "唐磊", "qa", "cs", [("qa", False)], False),
    ("editor", "韩雪", "knowledge_editor", "cs", [("knowledge", True)], False),
    ("owner_qc", "冯国强", "department_owner", "qc", [("qc", True)], True),
    ("owner_design", "曹睿", "department_owner", "design", [("design", True)], True),
    ("owner_sales", "彭晓东", "department_owner", "sales", [("sales", True)], True),
    ("owner_logistics", "曾凡军", "department_owner", "logistics", [("logistics", True)], True),
    ("owner_rnd", "邓宇航", "department_owner", "rnd", [("rnd", True)], True),
]

# --- catalogue ----------------------------------------------------------------------------------

# product name -> (category, model numbers, faults, parts)
PRODUCTS = {
    "制氧机": (
        "呼吸健康",
        ["KY-3A", "KY-5W", "KY-8W", "YU300", "YU600"],
        ["氧浓度只有80%左右", "开机后不出氧", "报警灯一直亮", "流量计浮球不动", "湿化瓶漏水"],
        ["分子筛", "压缩机", "湿化瓶", "流量计"],
    ),
    "血压计": (
        "家用医疗",
        ["BP-620", "BP-680", "BP-690AF", "YE-660D"],
        ["测量值比医院高20多", "显示屏不亮", "袖带漏气", "一测量就报错E2", "蓝牙连不上APP"],
        ["袖带", "气管", "主板"],
    ),
    "雾化器": (
        "呼吸健康",
        ["NB-403C", "NB-405A", "NB-M102"],
        ["不出雾", "出雾量很小", "开机没反应", "药杯漏液"],
        ["雾化杯", "网片", "导气管"],
    ),
    "按摩椅": (
        "按摩保健",
        ["MC-A3", "MC-S7", "MC-X9Pro"],
        ["气囊不充气", "机芯卡顿有异响", "遥控器失灵", "皮面开裂", "小腿按摩不工作"],
        ["气囊", "机芯", "线控器", "皮套"],
    ),
    "净水器": (
        "净水",
        ["RO-600G", "RO-800G", "RO-1000GPro"],
        ["接头漏水", "出水很慢", "TDS值偏高", "一直制水停不下来", "出水有异味"],
        ["RO膜滤芯", "进水电磁阀", "增压泵"],
    ),
    "净水器滤芯": (
        "净水", ["FL-PP3", "FL-CTO3", "FL-RO600", "FL-RO800"], ["装上后漏水", "型号不匹配"], ["密封圈"],
    ),
    "空气净化器": (
        "家电",
        ["AP-K60", "AP-K80", "AP-K100"],
        ["有焦糊味", "风量明显变小", "显示屏乱码", "PM2.5读数一直不变"],
        ["HEPA滤网", "风机", "传感器"],
    ),
    "血糖仪": (
        "家用医疗",
        ["GM-550", "GM-580"],
        ["试纸插入没反应", "测出来和医院差很多", "一直提示E5错误"],
        ["采血笔", "电池仓盖"],
    ),
    "颈椎按摩仪": (
        "按摩保健", ["NK-10", "NK-20S"], ["充不进电", "加热不工作", "脉冲档位失灵"], ["电极片", "充电线"],
    ),
}

# (code, name, platform)
SHOPS = [
    ("tmall-flagship", "康悦官方旗舰店", "tmall"),
    ("tmall-water", "康悦净水天猫专卖店", "tmall"),
    ("jd-self", "康悦京东自营旗舰店", "jd"),
    ("mini-program", "康悦健康商城小程序", "mini_program"),
    ("own-site", "康悦官网商城", "own_site"),
    ("store-hangzhou", "康悦杭州湖滨体验店", "offline"),
]

PURCHASE_CHANNEL = {"tmall": "天猫", "jd": "京东", "mini_program": "小程序", "own_site": "官网",
                    "offline": "线下门店"}

# parent -> children (cause category placeholder tree)
CATEGORIES = {
    "产品": ["质量问题", "设计与易用性", "说明书与配件"],
    "促销活动": ["价保", "优惠券与赠品", "活动规则"],
    "服务": ["服务态度", "响应时效", "维修服务", "发票"],
    "物流": ["配送时效", "包装破损", "安装"],
    "售后政策": ["退换货", "保修"],
}

# (key, label, type, choices)
CUSTOM_FIELDS = [
    ("purchase_channel", "购买渠道", "choice", ["天猫", "京东", "小程序", "官网", "线下门店", "其他"]),
    ("serial_number", "序列号", "text", []),
    ("in_warranty", "保修期内", "boolean", []),
]

EXTRA_TAGS = ["VIP客户", "加急", "差评风险", "重复来电", "老年用户", "双十一", "双十二", "618", "以旧换新"]

# --- people -------------------------------------------------------------------------------------

SURNAMES = [
    ("王", "wang"), ("李", "li"), ("张", "zhang"), ("刘", "liu"), ("陈", "chen"), ("杨", "yang"),
    ("黄", "huang"), ("赵", "zhao"), ("吴", "wu"), ("周", "zhou"), ("徐", "xu"), ("孙", "sun"),
    ("马", "ma"), ("朱", "zhu"), ("胡", "hu"), ("郭", "guo"), ("何", "he"), ("林", "lin"),
    ("高", "gao"), ("罗", "luo"), ("郑", "zheng"), ("梁", "liang"), ("谢", "xie"), ("宋", "song"),
    ("唐", "tang"), ("许", "xu"), ("韩", "han"), ("冯", "feng"), ("邓", "deng"), ("曹", "cao"),
    ("彭", "peng"), ("曾", "zeng"), ("肖", "xiao"), ("田", "tian"), ("董", "dong"), ("潘", "pan"),
    ("袁", "yuan"), ("蔡", "cai"), ("蒋", "jiang"), ("余", "yu"), ("杜", "du"), ("叶", "ye"),
    ("程", "cheng"), ("魏", "wei"), ("苏", "su"), ("吕", "lv"), ("丁", "ding"), ("任", "ren"),
    ("沈", "shen"), ("姚", "yao"), ("卢", "lu"), ("钟", "zhong"), ("姜", "jiang"), ("崔", "cui"),
    ("谭", "tan"), ("陆", "lu"), ("范", "fan"), ("汪", "wang"), ("廖", "liao"), ("石", "shi"),
    ("金", "jin"), ("贾", "jia"), ("夏", "xia"), ("方", "fang"), ("邹", "zou"), ("熊", "xiong"),
    ("白", "bai"), ("孟", "meng"), ("秦", "qin"), ("邱", "qiu"), ("侯", "hou"), ("江", "jiang"),
    ("薛", "xue"), ("雷", "lei"), ("龙", "long"), ("陶", "tao"), ("顾", "gu"), ("欧阳", "ouyang"),
]

GIVEN_NAMES = [
    ("伟", "wei"), ("芳", "fang"), ("娜", "na"), ("敏", "min"), ("静", "jing"), ("丽", "li"),
    ("强", "qiang"), ("磊", "lei"), ("军", "jun"), ("洋", "yang"), ("勇", "yong"), ("艳", "yan"),
    ("杰", "jie"), ("涛", "tao"), ("超", "chao"), ("霞", "xia"), ("刚", "gang"), ("平", "ping"),
    ("建国", "jianguo"), ("秀英", "xiuying"), ("桂兰", "guilan"), ("淑珍", "shuzhen"), ("玉兰", "yulan"),
    ("志强", "zhiqiang"), ("国庆", "guoqing"), ("建华", "jianhua"), ("丽华", "lihua"), ("秀兰", "xiulan"),
    ("晓燕", "xiaoyan"), ("海燕", "haiyan"), ("文博", "wenbo"), ("子涵", "zihan"), ("梓萱", "zixuan"),
    ("浩然", "haoran"), ("思雨", "siyu"), ("欣怡", "xinyi"), ("宇航", "yuhang"), ("佳琪", "jiaqi"),
    ("一鸣", "yiming"), ("雨桐", "yutong"), ("俊杰", "junjie"), ("晨曦", "chenxi"), ("明辉", "minghui"),
    ("春梅", "chunmei"), ("红霞", "hongxia"), ("德明", "deming"), ("振华", "zhenhua"), ("婷婷", "tingting"),
]

# mainland mobile prefixes accepted by phonenumbers (no duplicates: the phone generator relies on it)
MOBILE_PREFIXES = [
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "147", "150", "151", "152", "153",
    "155", "156", "157", "158", "159", "166", "173", "175", "176", "177", "178", "180", "181", "182",
    "183", "185", "186", "187", "188", "189", "191", "198", "199",
]

EMAIL_DOMAINS = ["163.com", "126.com", "qq.com", "foxmail.com", "outlook.com", "sina.com", "139.com"]

CITIES = [
    "杭州", "上海", "北京", "广州", "深圳", "成都", "武汉", "南京", "苏州", "西安", "重庆", "天津",
    "郑州", "长沙", "青岛", "沈阳", "合肥", "济南", "福州", "昆明", "宁波", "无锡", "哈尔滨", "石家庄",
]
COURIERS = ["顺丰", "京东物流", "中通", "圆通", "韵达", "EMS", "德邦"]
PROMOS = ["双十一", "双十二", "618", "年货节", "38节"]

# --- ticket scenarios ---------------------------------------------------------------------------
# weight: relative frequency; types: [(type, weight)]; category: (parent, child) cause category;
# products: product names it applies to (None = any); dept: the department a transfer goes to;
# channels: channel weights (default CHANNELS); cases: (subject, description) pairs; replies: first
# answers; asks: requests that put a ticket on pending; solutions: the answer that solves it;
# notes/followups: scenario-specific internal notes and customer follow-ups (else the shared ones).

SCENARIOS: list[dict[str, Any]] = [
    {
        "key": "noise", "weight": 7, "types": [("complaint", 5), ("defect", 3)], "dept": "qc",
        "category": ("产品", "质量问题"), "tags": ["噪音", "产品质量"],
        "products": ["制氧机", "按摩椅", "净水器", "空气净化器"],
        "cases": [
            ("{product}噪音大",
             "{days}天前买的{product}{model}，用了没几天就发现噪音很大，晚上根本没法睡觉。"),
            ("{product}{model}运行噪音特别大，晚上睡不着",
             "家里老人用的{product}{model}，最近噪音越来越大，还有点震动，担心是不是坏了。"),
            ("{product}噪音比宣传的大很多",
             "{product}开起来声音像拖拉机一样，详情页写的是静音设计，这也差太多了吧。"),
            ("{model}开机后一直嗡嗡响",
             "{model}一开机就嗡嗡响，关机后也有咔哒声，是不是{part}有问题？"),
        ],
        "replies": [
            "您好，我是康悦客服{agent}，非常抱歉给您带来困扰。麻烦录一段10秒左右的运行声音视频发给我们，方便技术同事判断。",
            "您好，已收到您反馈的{product}噪音问题。请先确认机器四周离墙20厘米以上、滤网已清洁，我们再一起排查。",
        ],
        "solutions": [
            "经技术确认是{part}异常，已为您安排换新，新机预计2天内送达，旧机由快递上门取回。",
            "已安排{city}服务网点师傅上门检测，更换了{part}，目前运行声音正常，感谢您的耐心。",
        ],
    },
    {
        "key": "late_delivery", "weight": 9, "types": [("inquiry", 5), ("complaint", 4)], "dept": "logistics",
        "category": ("物流", "配送时效"), "tags": ["物流延迟"], "products": None,
        "channels": {"tmall": 30, "jd": 25, "mini_program": 12, "phone": 12, "chat": 8, "wechat": 8},
        "cases": [
            ("快递三天还没到",
             "在{shop}下的单，订单号{order}，{courier}显示到了{city}转运中心之后就再也没动过。"),
            ("订单{order}物流三天没更新",
             "物流信息三天没有更新了，{courier}客服说让找商家，到底什么时候能到？"),
            ("说好次日达，{days}天了还没收到",
             "买给我妈用的{product}，急着用，页面写的次日达，{days}天了还没收到。"),
            ("{product}什么时候能发货",
             "下单{days}天了还显示待发货，说好的48小时内发货，{product}到底有没有货？"),
            ("物流显示已签收但我没收到",
             "物流显示昨天已签收，但家里没人收到，{courier}快递员电话也打不通。"),
        ],
        "replies": [
            "您好，我是客服{agent}。已为您查询订单{order}，包裹目前在{city}转运中心，我们已联系{courier}加急处理。",
            "非常抱歉让您久等了，已为您登记催件，{courier}承诺24小时内给出结果，有进展第一时间通知您。",
        ],
        "notes": ["已联系{courier}客服催件，预计明天派送。", "仓库确认已出库，{courier}单号已同步给客户。"],
        "solutions": [
            "包裹已于今天上午派送签收，给您带来的不便深表歉意，已为您补偿一张20元无门槛券。",
            "经核实包裹在运输途中丢失，已为您重新补发，新单号已短信发送给您。",
        ],
    },
    {
        "key": "price_protect", "weight": 6, "dept": "sales",
        "types": [("complaint", 4), ("return_refund", 3)],
        "category": ("促销活动", "价保"), "tags": ["价保"], "products": None, "promo_tag": True,
        "channels": {"tmall": 35, "jd": 30, "mini_program": 8, "chat": 8, "phone": 10},
        "cases": [
            ("{promo}价保申请",
             "{promo}前在{shop}买的{product}{model}，今天活动价又便宜了{amount}元，按规则应该可以价保吧？"),
            ("刚买{days}天就降价{amount}元，要求价保",
             "同一个型号{model}，我下单{days}天后就降了{amount}元，感觉被坑了，要求退差价。"),
            ("{promo}价保被拒，要求说明原因",
             "申请了价保，系统自动拒绝了，说不在价保范围，可活动页面明明写了{promo}保价30天。"),
            ("{promo}买贵了，差价怎么算",
             "{promo}付了定金又付尾款，结果比直接买还贵{amount}元，这个差价怎么处理？"),
        ],
        "replies": [
            "您好，我是客服{agent}，已收到您的价保申请。{promo}的价保规则以活动页为准，我帮您核对一下下单价和当前到手价。",
            "理解您的心情，已为您提交价保审核，我们会在24小时内回复结果。",
        ],
        "solutions": [
            "已为您办理价保，差价{amount}元将在1-3个工作日原路退回。",
            "经核实您的订单叠加了优惠券，实际到手价低于当前价格，不符合价保条件，已为您补偿一张30元券表示歉意。",
        ],
    },
    {
        "key": "repair", "weight": 10, "types": [("repair", 1)], "dept": "rnd",
        "category": ("服务", "维修服务"), "tags": ["上门维修"],
        "products": ["制氧机", "血压计", "雾化器", "按摩椅", "净水器", "空气净化器"],
        "channels": {"phone": 35, "wechat": 15, "mini_program": 15, "chat": 10, "web": 10, "tmall": 8,
                     "jd": 7},
        "cases": [
            ("上门维修预约",
             "{product}{model}{fault}，机身序列号{serial}，去年在{shop}买的，应该还在保修期内，请安排师傅上门。"),
            ("{product}{model}{fault}，申请上门维修",
             "家住{city}，{product}最近{fault}，老人每天都要用，麻烦尽快安排维修。"),
            ("{product}报修：{fault}",
             "{product}{fault}，按说明书重启过也没用，白天家里有人，可以随时上门。"),
            ("预约{date}上门维修{product}",
             "{product}{fault}，想预约{date}上门维修，地址在{city}，麻烦提前打电话。"),
        ],
        "replies": [
            "您好，我是客服{agent}，已为您登记报修。请确认上门地址和联系电话，我们会安排{city}服务网点与您预约时间。",
            "您好，麻烦先断电10分钟后重新开机，看看是否还{fault}，如仍有问题我们安排师傅上门。",
        ],
        "asks": ["麻烦您提供一下购买凭证和机身背面序列号的照片，确认保修后马上为您派单。"],
        "notes": ["已派单至{city}服务网点，预约{date}上门。",
                  "网点反馈{part}需要从总仓调货，预计晚一天上门。"],
        "followups": ["可以，下午两点以后家里有人。", "我在{city}，师傅什么时候能来？", "序列号是{serial}。"],
        "solutions": [
            "师傅已于{date}上门，更换了{part}，设备恢复正常，保修期内不收取任何费用。",
            "已为您寄送备件{part}并远程指导更换完成，如再有问题随时联系我们。",
        ],
    },
    {
        "key": "attitude", "weight": 4, "types": [("complaint", 1)], "dept": None, "priority_bias": 1,
        "category": ("服务", "服务态度"), "tags": ["服务态度"], "products": None,
        "cases": [
            ("客服态度差",
             "之前打电话问{product}的问题，客服很不耐烦，话没说完就挂了，要求给个说法。"),
            ("投诉客服推诿，问题一直没解决",
             "同一个问题已经打了三次电话，每次都让我等回复，{days}天了没有任何人联系我。"),
            ("热线一直打不通",
             "热线排队二十多分钟都没人接，在线客服只会发模板回复，{product}的问题到底找谁？"),
            ("答应回电一直没人回",
             "上周客服说两小时内回电，到现在一个电话都没有，我要投诉。"),
        ],
        "replies": [
            "您好，我是客服主管{agent}，非常抱歉我们的服务让您不满意，您反映的情况我已记录并会核实当时的录音。",
            "真的很抱歉让您反复联系，这个问题由我全程跟进，今天下班前一定给您回复。",
        ],
        "notes": ["已调取通话录音，坐席存在抢话和提前挂机，已安排辅导。", "客户要求主管回电，已转组长。"],
        "solutions": [
            "已核实通话录音，相关客服已进行辅导，您的{product}问题也已处理完毕，再次向您致歉。",
            "已为您升级处理并补偿50元优惠券，后续问题由我专人跟进。",
        ],
    },
    {
        "key": "refund", "weight": 8, "types": [("return_refund", 1)], "dept": "logistics",
        "category": ("售后政策", "退换货"), "tags": ["退货退款"], "products": None,
        "channels": {"tmall": 30, "jd": 25, "mini_program": 12, "chat": 10, "phone": 13, "web": 5},
        "cases": [
            ("七天无理由退货",
             "{days}天前收到的{product}{model}，还没拆封，想申请七天无理由退货。"),
            ("申请退货退款",
             "买的{product}用着不合适，包装都还在，想换成别的型号或者直接退。"),
            ("退款{days}天还没到账",
             "退货{courier}已经签收{days}天了，退款一直显示处理中，订单号{order}。"),
            ("{model}退货运费谁出",
             "{product}{fault}，要退货的话运费是我出还是你们出？"),
        ],
        "replies": [
            "您好，我是客服{agent}。未拆封的{product}支持七天无理由退货，退货地址已发给您，请寄回时备注订单号。",
            "您好，已查询到您的退货，仓库正在验货，验货通过后会立即退款。",
        ],
        "solutions": [
            "仓库已验收，退款{amount}元已原路退回，预计1-3个工作日到账。",
            "已为您办理换货，新的{product}今天已发出，{courier}单号已短信通知。",
        ],
    },
    {
        "key": "filter", "weight": 6, "types": [("inquiry", 1)], "dept": None,
        "category": ("产品", "说明书与配件"), "tags": ["滤芯"],
        "products": ["净水器", "净水器滤芯", "空气净化器"],
        "cases": [
            ("滤芯更换咨询",
             "家里的{product}{model}滤芯提示灯亮了，是要换全部滤芯还是只换一根？"),
            ("{model}滤芯多久换一次",
             "{model}用了大半年了，滤芯一般多久换一次？自己能换吗？"),
            ("滤芯复位方法",
             "换了新滤芯以后提示灯还是亮的，不知道怎么复位。"),
            ("{product}该买哪个型号的滤芯",
             "想问一下{model}对应的滤芯型号，在{shop}搜了好几个不知道买哪个。"),
        ],
        "replies": [
            "您好，我是客服{agent}。{model}的PP棉建议6个月更换，RO膜建议24个月更换，具体以机器提示为准。",
            "您好，更换滤芯后长按“冲洗”键5秒即可复位，提示灯会熄灭。",
        ],
        "solutions": ["已为您发送对应滤芯的购买链接和更换视频，如有问题随时联系。",
                      "已指导客户完成滤芯复位，问题解决。"],
    },
    {
        "key": "usage", "weight": 7, "types": [("inquiry", 1)], "dept": "rnd",
        "category": ("产品", "设计与易用性"), "tags": ["使用咨询"],
        "products": ["制氧机", "血压计", "雾化器", "血糖仪", "颈椎按摩仪"],
        "channels": {"phone": 30, "chat": 20, "wechat": 20, "mini_program": 15, "web": 10, "email": 5},
        "cases": [
            ("{product}说明书看不懂",
             "刚买的{product}{model}，说明书看不太懂，老人不会操作，能不能电话教一下？"),
            ("{product}蓝牙怎么连手机APP",
             "{product}怎么和手机APP绑定？按说明书操作了一直搜不到设备。"),
            ("{model}怎么清洁保养",
             "请问{model}日常怎么清洁保养，需要注意什么？"),
            ("{model}说明书丢了",
             "{model}的说明书找不到了，有没有电子版？"),
        ],
        "replies": [
            "您好，我是客服{agent}，已为您发送{model}的电子说明书和操作视频，我也可以电话一步步教您。",
            "您好，请先打开手机蓝牙和定位权限，在APP里点“添加设备”，同时长按设备开关键3秒进入配对。",
        ],
        "solutions": ["已电话指导客户完成操作，客户表示会用了。", "已发送操作视频，客户确认问题已解决。"],
    },
    {
        "key": "damaged", "weight": 4, "types": [("complaint", 2), ("return_refund", 2)], "dept": "logistics",
        "category": ("物流", "包装破损"), "tags": ["包装破损"], "products": None,
        "cases": [
            ("收到货外箱破损",
             "今天收到的{product}外箱都压扁了，打开一看外壳裂了，{courier}送的。"),
            ("少发了配件",
             "{product}{model}包装里少了说明书和{part}，订单号{order}。"),
            ("{model}到货就是坏的",
             "收到货开机就{fault}，怀疑运输途中摔坏了。"),
        ],
        "replies": [
            "您好，我是客服{agent}，非常抱歉。麻烦拍一下外箱和产品破损处的照片，我们马上为您处理。",
            "已收到照片，确认是运输破损，我们会为您换新，旧件无需寄回。",
        ],
        "asks": ["麻烦补充一下外箱面单和破损位置的照片，我们核实后立即处理。"],
        "solutions": ["新机已发出，{courier}单号已短信通知，给您添麻烦了。",
                      "缺少的配件已补发，预计明天送达。"],
    },
    {
        "key": "install", "weight": 3, "types": [("inquiry", 2), ("repair", 1)], "dept": "logistics",
        "category": ("物流", "安装"), "tags": ["安装"], "products": ["净水器", "按摩椅"],
        "cases": [
            ("{product}预约安装",
             "{product}{model}已经到了，想预约{date}上午安装，地址在{city}。"),
            ("安装师傅迟到两个小时",
             "约好上午十点安装{product}，师傅到十二点还没来，电话也不接。"),
            ("安装要收费吗",
             "安装师傅说要另外收材料费，请问这个是正常的吗？"),
        ],
        "replies": [
            "您好，我是客服{agent}，已为您预约{date}上门安装，师傅会提前一小时电话联系您。",
            "非常抱歉，已联系{city}网点核实，师傅今天下午会优先上门。",
        ],
        "solutions": ["安装已完成，客户确认使用正常。",
                      "经核实材料费为超出标准安装的管材费用，已向客户解释并减免。"],
    },
    {
        "key": "defect_batch", "weight": 3, "types": [("defect", 1)], "dept": "qc", "priority_bias": 1,
        "category": ("产品", "质量问题"), "tags": ["批次问题"],
        "products": ["制氧机", "血压计", "雾化器", "按摩椅", "净水器", "空气净化器", "血糖仪"],
        "channels": {"phone": 20, "email": 20, "api": 20, "tmall": 15, "jd": 15, "web": 10},
        "cases": [
            ("{model}疑似批次问题：{fault}",
             "本周已收到多位客户反馈{product}{model}{fault}，序列号都在{serial}附近，请品控确认是否批次问题。"),
            ("{product}{fault}，已是本周第三例",
             "又一位客户反馈{product}{model}{fault}，和前两例的生产月份相同。"),
            ("换机后仍然{fault}",
             "{product}{fault}，客户已经是第二次换机，新机还是同样问题。"),
        ],
        "replies": ["您好，我是客服{agent}，已为您登记，技术同事会尽快确认原因并联系您。"],
        "solutions": [
            "品控确认为{part}供应商批次问题，已安排该批次主动召回换新。",
            "经检测为个别机器装配问题，已为客户换新并反馈工厂改进。",
        ],
    },
    {
        "key": "suggestion", "weight": 3, "types": [("suggestion", 1)], "dept": "design",
        "category": ("产品", "设计与易用性"), "tags": ["产品建议"], "products": None,
        "channels": {"wechat": 25, "mini_program": 20, "email": 20, "web": 20, "phone": 15},
        "cases": [
            ("{product}字太小，老人看不清",
             "{product}整体挺好用，就是按键和屏幕的字太小，家里老人看不清，建议改进。"),
            ("希望APP能导出测量记录",
             "希望APP能把{product}的数据导出成表格，方便给医生看。"),
            ("建议{product}增加语音播报",
             "建议{product}增加语音播报和定时提醒功能，老人不用看屏幕。"),
            ("包装太大了不环保",
             "{product}的包装用了很多泡沫，拆完一大堆垃圾，建议改成纸浆托。"),
        ],
        "replies": ["您好，我是客服{agent}，非常感谢您的建议，已经反馈给产品设计部门。"],
        "solutions": [
            "您的建议已被产品部门采纳，计划在下一代产品中改进，感谢支持。",
            "已记录并反馈给产品部门，感谢您的建议。",
        ],
    },
    {
        "key": "warranty", "weight": 4, "types": [("inquiry", 1)], "dept": None,
        "category": ("售后政策", "保修"), "tags": ["保修"], "products": None,
        "cases": [
            ("{product}保修期多久",
             "{product}{model}是{days}天前买的，想问一下保修政策，整机保几年？"),
            ("过保了维修怎么收费",
             "{product}买了两年多了，最近{fault}，过保了维修大概多少钱？"),
            ("序列号查询保修",
             "序列号{serial}，想查一下是否还在保修期内。"),
        ],
        "replies": [
            "您好，我是客服{agent}。{product}整机保修一年、主要部件保修三年，凭购买凭证或序列号即可。",
        ],
        "solutions": [
            "已为客户查询，该机在保修期内，可免费维修。",
            "已告知过保维修收费标准，{part}更换费用{amount}元。",
        ],
    },
    {
        "key": "coupon", "weight": 3, "types": [("inquiry", 2), ("complaint", 1)], "dept": "sales",
        "category": ("促销活动", "优惠券与赠品"), "tags": ["优惠券"], "products": None, "promo_tag": True,
        "channels": {"tmall": 30, "jd": 25, "mini_program": 25, "chat": 10, "phone": 10},
        "cases": [
            ("{promo}赠品没收到",
             "{promo}活动买{product}说送{part}，收到货里没有赠品。"),
            ("优惠券用不了",
             "领了{amount}元优惠券，下单{model}时提示不满足使用条件。"),
            ("{promo}满减没有生效",
             "下单时页面显示满2000减{amount}，付款时没有减。"),
        ],
        "replies": ["您好，我是客服{agent}，已为您核实活动规则，马上为您处理。"],
        "solutions": [
            "已为您补发，{courier}单号已短信通知，给您带来不便非常抱歉。",
            "已为您补发{amount}元优惠券，请在“我的-优惠券”查看。",
        ],
    },
    {
        "key": "repair_progress", "weight": 3, "types": [("complaint", 1)], "dept": "rnd",
        "category": ("服务", "响应时效"), "tags": ["维修进度"],
        "products": ["制氧机", "按摩椅", "净水器", "空气净化器"],
        "cases": [
            ("维修寄回{days}天没消息",
             "{product}{model}寄回去维修已经{days}天了，每次问都说在检测，家里老人等着用。"),
            ("{product}送修半个月了还没修好",
             "{product}送修半个月了，说是等{part}配件，到底还要多久？"),
            ("维修师傅一直不来",
             "上周报修的{product}，说好三天内上门，到现在没人联系我。"),
        ],
        "replies": ["您好，我是客服{agent}，非常抱歉，已帮您联系维修中心加急处理，今天内给您回复进度。"],
        "solutions": [
            "维修已完成并寄回，{courier}单号已发送，另外为您延长保修半年。",
            "师傅已上门完成维修，为表歉意赠送{part}一个。",
        ],
    },
]

# --- shared messages ----------------------------------------------------------------------------

CUSTOMER_FOLLOWUPS = [
    "好的，订单号是{order}。", "都过去{days}天了，到底什么时候能处理好？", "照片已经发了，你们看一下。",
    "行，那我等你们消息。", "还是不行，按你们说的试过了。", "谢谢，麻烦快一点，老人每天都要用。",
]
CUSTOMER_REOPEN = ["问题还是没有解决，请再帮我看看。", "你们说已经处理好了，可我这边还是老样子。",
                   "用了两天又不行了。"]
AGENT_NOTES = [
    "客户情绪较激动，已安抚，注意回访。", "VIP客户，优先处理。", "同一客户本月第二次来电，注意跟进。",
    "已核对订单，金额{amount}元，符合处理条件。", "已与客户约定明天上午回电。",
]
TRANSFER_NOTES = {
    "qc": "请品控协助确认{model}是否存在批次问题，附客户视频。",
    "logistics": "请物流部门核实订单{order}的配送情况，{courier}单号已附。",
    "sales": "请电商运营确认{promo}活动规则及价保口径。",
    "rnd": "请售后技术组协助判断{product}{fault}的原因。",
    "design": "客户建议已整理，请产品设计部门评估。",
}
PENDING_ASKS = ["麻烦您提供一下订单号和购买凭证，我们收到后马上为您处理。",
                "麻烦拍一段问题视频发给我们，方便技术同事判断。"]

# --- distributions ------------------------------------------------------------------------------

WINDOW_DAYS = 90
# tickets per local hour of day, weekday (Monday first), and the days after shopping festivals
HOUR_WEIGHTS = [0.3, 0.15, 0.1, 0.1, 0.1, 0.2, 0.5, 1.5, 4, 8, 9, 8.5, 6, 7, 8.5, 8.5, 8, 7, 5.5, 5, 5.5, 5,
                3, 1.2]
WEEKDAY_WEIGHTS = [1.15, 1.05, 1.0, 1.0, 1.0, 0.8, 0.75]
PROMO_DATES = {(11, 11): "双十一", (12, 12): "双十二", (6, 18): "618"}
CHANNELS = {"phone": 25, "chat": 14, "wechat": 10, "tmall": 15, "jd": 12, "mini_program": 8, "email": 5,
            "web": 7, "api": 4}
PRODUCT_WEIGHTS = {"制氧机": 25, "血压计": 20, "雾化器": 10, "按摩椅": 10, "净水器": 14, "净水器滤芯": 4,
                   "空气净化器": 8, "血糖仪": 5, "颈椎按摩仪": 4}
SHOP_PLATFORMS = {"tmall": 35, "jd": 30, "own_site": 10, "offline": 15, "mini_program": 10}
# (age limit in hours, status weights): older tickets are mostly solved or closed
STATUS_BY_AGE = [
    (4, {"new": 50, "open": 30, "pending": 5, "on_hold": 5, "solved": 10}),
    (24, {"new": 20, "open": 30, "pending": 15, "on_hold": 10, "solved": 25}),
    (72, {"new": 5, "open": 20, "pending": 15, "on_hold": 10, "solved": 40, "closed": 10}),
    (168, {"new": 1, "open": 8, "pending": 8, "on_hold": 6, "solved": 37, "closed": 40}),
    (336, {"open": 3, "pending": 3, "on_hold": 3, "solved": 16, "closed": 75}),
    (10**9, {"open": 1, "pending": 1, "on_hold": 1, "solved": 4, "closed": 93}),
]
# first reply after (min, max) hours, log-uniform; other channels (0.5, 8)
FIRST_REPLY_HOURS = {"phone": (0.02, 0.15), "chat": (0.01, 0.08), "wechat": (0.02, 0.3),
                     "mini_program": (0.02, 0.3), "tmall": (0.02, 0.5), "jd": (0.02, 0.5)}
PRIORITY_LEVELS = {0: 18, 1: 64, 2: 15, 3: 3}  # low, normal, high, urgent (complaints and VIPs go up)
VIP_TIERS = {"": 85, "silver": 9, "gold": 4.5, "platinum": 1.5}
DESCRIPTION_EXTRAS = ["订单号：{order}。", "家里老人在用，麻烦尽快。", "这已经是我第二次联系你们了。",
                      "联系电话就是下单手机号。", "照片已经上传，请查看。"]
SHOP_FALLBACK_NAMES = ["天猫旗舰店", "京东", "线下门店", "官网"]
AMOUNTS = [20, 30, 50, 80, 100, 150, 200, 300, 500]

# fmt: on


# --- the organization in the database ------------------------------------------------------------


@dataclass
class Org:
    products: dict[str, list[Product]]
    shops: dict[str, list[Shop]]
    teams: dict[str, Team]
    agents: dict[str, list[int]]
    supervisors: list[int]
    names: dict[int, str]
    departments: dict[str, Department]
    categories: dict[tuple[str, str], int]
    tags: dict[str, int]


def ensure_org(password_hash: str) -> Counter:
    """Create whatever part of the demo organization is missing, in one transaction."""
    made: Counter = Counter()
    with transaction.atomic():
        depts = _departments()
        for code, name in DEPARTMENTS:
            if code not in depts:
                depts[code] = Department.objects.create(code=code, name=name)
                made["departments"] += 1
        teams = {}
        for key, (code, name, vendor) in TEAMS.items():
            teams[key], created = Team.objects.get_or_create(
                department=depts[code], name=name, defaults={"vendor": vendor}
            )
            made["teams"] += created
        existing = set(
            User.objects.filter(username__in=[u[0] for u in USERS]).values_list("username", flat=True)
        )
        for username, display, role, code, memberships, heads in USERS:
            if username not in existing:
                user = User.objects.create(
                    username=username,
                    display_name=display,
                    role=role,
                    department=depts[code],
                    email=f"{username}@example.com",
                    password=password_hash,
                    is_staff=role == "admin",
                    is_superuser=username == "admin",
                )
                Membership.objects.bulk_create(
                    [Membership(user=user, team=teams[key], is_lead=lead) for key, lead in memberships]
                )
                made["users"] += 1
                if heads:
                    Department.objects.filter(pk=depts[code].pk, head__isnull=True).update(head=user)
        have = set(Product.objects.values_list("model_number", flat=True))
        products = [(m, name, cat) for name, (cat, models, _, _) in PRODUCTS.items() for m in models]
        new_products = [Product(model_number=m, name=n, category=c) for m, n, c in products if m not in have]
        made["products"] += len(Product.objects.bulk_create(new_products))
        have = set(Shop.objects.values_list("code", flat=True))
        new_shops = [Shop(code=c, name=n, platform=p) for c, n, p in SHOPS if c not in have]
        made["shops"] += len(Shop.objects.bulk_create(new_shops))
        for parent_name, children in CATEGORIES.items():
            parent, created = Category.objects.get_or_create(name=parent_name, parent=None)
            made["categories"] += created
            for child in children:
                made["categories"] += Category.objects.get_or_create(name=child, parent=parent)[1]
        for key, label, ftype, choices in CUSTOM_FIELDS:
            made["custom fields"] += CustomFieldDefinition.objects.get_or_create(
                key=key, defaults={"label": label, "field_type": ftype, "choices": choices}
            )[1]
        names = {t for sc in SCENARIOS for t in sc["tags"]} | set(EXTRA_TAGS)
        have = set(Tag.objects.filter(name__in=names).values_list("name", flat=True))
        made["tags"] += len(Tag.objects.bulk_create([Tag(name=n) for n in sorted(names - have)]))
    return made


def _departments() -> dict[str, Department]:
    """The demo departments that exist, by demo code (matched by code or, if renamed, by name)."""
    found = {}
    for code, name in DEPARTMENTS:
        dept = Department.objects.filter(Q(code=code) | Q(name=name)).order_by("id").first()
        if dept is not None:
            found[code] = dept
    return found


def load_org() -> Org:
    """The seeded organization as the ticket generator needs it (ids, names, who works where)."""
    depts = _departments()
    teams = {
        key: Team.objects.get(department=depts[code], name=name) for key, (code, name, _) in TEAMS.items()
    }
    users = {u.username: u for u in User.objects.filter(username__in=[u[0] for u in USERS], is_active=True)}
    agents: dict[str, list[int]] = {key: [] for key in TEAMS}
    supervisors = []
    for username, _, role, _, memberships, _ in USERS:
        user = users.get(username)
        if user is None:
            continue
        for key, _ in memberships:
            if role == "agent":
                agents[key].append(user.pk)
        if role == "supervisor":
            supervisors.append(user.pk)
    for key in ("hotline", "online", "ecommerce", "tier2", "outsourced"):
        if not agents[key]:
            raise CommandError(f"demo team {TEAMS[key][1]} has no active agents")
    products: dict[str, list[Product]] = {}
    for p in Product.objects.filter(model_number__in=[m for _, ms, _, _ in PRODUCTS.values() for m in ms]):
        products.setdefault(p.name, []).append(p)
    shops: dict[str, list[Shop]] = {}
    for s in Shop.objects.filter(code__in=[c for c, _, _ in SHOPS]).order_by("id"):
        shops.setdefault(s.platform, []).append(s)
    children = Category.objects.filter(parent__isnull=False, parent__parent__isnull=True).order_by("id")
    categories = {
        (parent, name): pk for parent, name, pk in children.values_list("parent__name", "name", "id")
    }
    names = {u.pk: u.display_name or u.username for u in users.values()}
    tags = dict(Tag.objects.values_list("name", "id"))
    return Org(
        products, shops, teams, agents, supervisors or agents["hotline"], names, depts, categories, tags
    )
