"""The out-of-the-box sentiment: a hand-written Chinese lexicon of e-commerce and service words, with
negation (不/没/没有/别/无/未 … shortly before a word flips it), degree words (很/非常/太/有点 …) and
contrast (但是/可是/不过: the clause after weighs more, the one before less).

One compiled alternation (longest words first) finds every lexicon, negation, degree and contrast
word of a text in a single pass; sentiment is tanh(score / 2) in −1..1."""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field

from kefu.voc.choices import Polarity

# weights: 2 strong, 1 plain, 0.5 weak. Compounds that contain a negation (不错, 没问题, 不满意) are
# entries of their own, so the longest match wins over 不 + 错.
_POSITIVE = {
    2.0: """好评 五星好评 五星 超赞 很赞 太赞 点赞 完美 非常满意 超级满意 满分 强烈推荐 值得推荐 物超所值 超值
        性价比高 性价比超高 惊喜 超出预期 好极了 棒极了 一级棒 无可挑剔 很喜欢 超喜欢 爱了 回购 会回购 必回购
        还会再来 还会再买 下次还来 良心 良心卖家 良心商家 神器 好用到哭 满意满意""",
    1.0: """好 很好 挺好 不错 挺不错 很不错 满意 推荐 喜欢 赞 棒 优秀 漂亮 好看 美观 精致 大气 高端 上档次
        实惠 划算 便宜 值 值得 值了 快 很快 迅速 及时 准时 神速 速度快 发货快 物流快 送货快 到货快 配送快
        送餐快 新鲜 好吃 美味 可口 香 入味 分量足 量足 干净 卫生 整洁 舒适 舒服 安静 静音 宽敞 方便 便捷
        实用 好用 耐用 结实 牢固 稳定 灵敏 省电 省心 放心 安心 靠谱 专业 耐心 细心 热情 周到 贴心 礼貌
        客气 友好 负责 认真 用心 给力 及时回复 回复快 态度好 服务好 服务周到 服务到位 质量好 质量不错 做工好
        做工精细 包装好 包装精美 包装完好 完好无损 正品 正宗 清晰 流畅 顺畅 顺利 高效 效果好 效果明显 有效
        轻便 小巧 清爽 温馨 温暖 感谢 谢谢 感恩 辛苦了 没问题 没有问题 没什么问题 无异味 没有异味 没异味
        无噪音 没有噪音 不吵 很安静 满足 开心 高兴 愉快 一致 相符 与描述一致 和描述一样 合适 合身 正好
        好评如潮 优惠 实在 厚道 用着不错 信赖 信任 推荐购买 大品牌 品质好 品质 有保障 新款""",
    0.5: """还行 还可以 可以 行 凑合 一般般 还好 还不错 正常 及格 OK ok 可以的 够用""",
}
_NEGATIVE = {
    2.0: """差评 垃圾 骗子 欺骗 骗人 坑人 坑爹 黑心 无良 恶心 恶劣 极差 太差 超差 特别差 非常差 最差 差劲
        投诉 举报 假货 假冒 山寨 翻新 二手 以次充好 质量太差 质量极差 再也不买 再也不会 不会再买 拉黑 后悔
        上当 上当受骗 坑 骗 失望 非常失望 很失望 太失望 愤怒 气死 气愤 无语 崩溃 要求退款
        坏了 坏的 烂了 烂 破了 破损 漏液 漏水 漏油 漏电 漏气 着火 冒烟 爆炸 烧坏 烧了 异物 头发 虫子
        变质 馊了 发霉 霉变 拉肚子 食物中毒 过敏 不能用 用不了 没法用 无法使用 不工作 死机 故障 失灵 报废
        耍流氓 态度恶劣 爱答不理 不理人 不回复 没人理 敷衍 推诿 踢皮球 不负责任 甩锅 霸王条款""",
    1.0: """差 不好 不行 不满意 不推荐 不值 不值得 不划算 不喜欢 不太好 不怎么样 不新鲜 不好吃 不好用 不好看
        不干净 不卫生 不舒服 不方便 不合适 不清楚 不清晰 不准时 不及时 不专业 不耐烦 不靠谱 不结实 不稳定
        不灵敏 不一致 不符 不相符 与描述不符 货不对板 慢 很慢 太慢 超慢 特别慢 好慢 速度慢 发货慢 物流慢
        送货慢 配送慢 送餐慢 迟到 延迟 延误 超时 晚了 晚到 迟迟 久等 等了很久 等太久 催 催单 催了 没到
        没收到 未收到 没送到 丢件 丢失 少了 少发 漏发 错发 发错 送错 缺 缺少 噪音 噪声 吵 很吵 太吵 响声
        异响 嗡嗡 震动大 发热 发烫 烫手 异味 臭 臭味 刺鼻 味道大 难闻 难吃 难用 难看 咸 太咸 太油 油腻 淡
        凉了 冷了 硬 生的 没熟 夹生 贵 太贵 偏贵 不便宜 小气 粗糙 做工差 质量差 质量问题 瑕疵 划痕 掉漆
        变形 开裂 裂了 松动 脱落 生锈 褪色 起球 缩水 有问题 问题 毛病 麻烦 繁琐 复杂 卡顿 卡 慢吞吞 不灵
        退款 退货 换货 返修 投诉无门 差强人意 一般 失误 错误 糟糕 糟心 郁闷 生气 不爽 闹心 心累 无奈
        遗憾 可惜 担心 不放心 隐患 危险 伤 割手 浪费 白买 智商税 忽悠 虚假 夸大 套路 虚标 缩水 减配
        客服差 服务差 态度差 态度不好 服务不好 包装差 包装破损 简陋 敷衍了事 冷漠 凶 骂人 傲慢""",
    0.5: """稍慢 有点慢 略贵 有点贵 偏小 偏大 偏硬 偏软 偏咸 偏淡 小 少 薄 轻微 一点点 将就""",
}
NEGATIONS = (
    "不",
    "没",
    "没有",
    "别",
    "无",
    "未",
    "非",
    "不是",
    "并不",
    "并没有",
    "从不",
    "从来不",
    "毫不",
    "绝不",
    "不太",
)
DEGREES = {
    "极其": 2.0, "极": 2.0, "超级": 1.8, "超": 1.6, "太": 1.6, "非常": 1.7, "特别": 1.6, "十分": 1.6,
    "格外": 1.5, "相当": 1.4, "很": 1.4, "好": 1.2, "挺": 1.2, "真": 1.3, "真的": 1.3, "实在": 1.4,
    "巨": 1.7, "贼": 1.6, "蛮": 1.1, "比较": 0.9, "较": 0.9, "还算": 0.8, "有点": 0.6, "有些": 0.6,
    "有点儿": 0.6, "稍微": 0.5, "稍": 0.5, "略": 0.5, "略微": 0.5, "不太": 0.6, "最": 1.8, "更": 1.3,
}  # fmt: skip
# words that contain a sentiment word but say nothing (快递 is no 快; 差不多 is no 差)
MASKS = (
    "快递",
    "快递员",
    "快件",
    "快餐",
    "好像",
    "好几",
    "好多",
    "只好",
    "好友",
    "差不多",
    "差价",
    "相差",
    "一般来说",
    "好评返现",
)
CONTRASTS = ("但是", "可是", "不过", "但", "然而", "却", "就是")
NEGATION_WINDOW = 3  # characters between a negation and the word it flips (不是很满意)
NEGATED = -0.8  # a flipped word weighs a little less: 不满意 ≠ 很差
BEFORE_CONTRAST, AFTER_CONTRAST = 0.5, 1.5
THRESHOLD = 0.15  # |sentiment| below this is neutral
_CLAUSE_END = re.compile(r"[。！？!?；;，,、\n\r~～…]+|\s{2,}")

LEXICON: dict[str, float] = {}
for _weight, _words in _POSITIVE.items():
    for _w in _words.split():
        LEXICON[_w] = _weight
for _weight, _words in _NEGATIVE.items():
    for _w in _words.split():
        LEXICON[_w] = -_weight  # a word in both lists (never intended) counts as negative


_ROLE_WORD, _ROLE_NEG, _ROLE_DEG, _ROLE_CONTRAST, _ROLE_MASK = 0, 1, 2, 3, 4
_ROLES: dict[str, int] = {w: _ROLE_MASK for w in MASKS}
for _w in LEXICON:
    _ROLES.setdefault(_w, _ROLE_WORD)
for _w in DEGREES:
    _ROLES.setdefault(_w, _ROLE_DEG)
for _w in NEGATIONS:
    _ROLES.setdefault(_w, _ROLE_NEG)
for _w in CONTRASTS:
    _ROLES.setdefault(_w, _ROLE_CONTRAST)
_ROLES["不太"] = _ROLE_NEG  # 不太好: a softened negation
_PATTERN = re.compile(
    "|".join(re.escape(w) for w in sorted(_ROLES, key=len, reverse=True)) + "|" + _CLAUSE_END.pattern
)


@dataclass
class LexiconResult:
    sentiment: float
    polarity: str
    confidence: float
    terms: list[str] = field(default_factory=list)


def polarity_of(sentiment: float) -> str:
    if sentiment >= THRESHOLD:
        return Polarity.POSITIVE
    if sentiment <= -THRESHOLD:
        return Polarity.NEGATIVE
    return Polarity.NEUTRAL


def score(text: str) -> tuple[float, list[tuple[str, float]]]:
    """The raw score of `text` and each sentiment word's contribution (word, signed weight)."""
    text = unicodedata.normalize("NFKC", text).lower()
    total = 0.0
    parts: list[tuple[str, float]] = []
    clause: list[tuple[str, float]] = []  # contributions of the current clause
    neg_end = -100
    neg_flips = 0
    degree = 1.0
    deg_end = -100
    weight_now = 1.0  # AFTER_CONTRAST once a contrast word was seen in this text
    roles = _ROLES
    for m in _PATTERN.finditer(text):
        word = m.group()
        role = roles.get(word)
        start = m.start()
        if role is None:  # a clause end: negation and degree stop here
            neg_flips, neg_end, degree, deg_end = 0, -100, 1.0, -100
            continue
        if role == _ROLE_MASK:
            continue
        if role == _ROLE_NEG:
            neg_flips = neg_flips + 1 if start - neg_end <= NEGATION_WINDOW else 1
            neg_end = m.end()
            if word == "不太":
                degree, deg_end = DEGREES["不太"], m.end()
        elif role == _ROLE_DEG:
            degree, deg_end = DEGREES[word], m.end()
        elif role == _ROLE_CONTRAST:
            # what came before the contrast weighs less, what follows more
            total -= sum(v for _, v in clause) * (1 - BEFORE_CONTRAST)
            parts = [(w, v * BEFORE_CONTRAST) for w, v in parts]
            clause = []
            weight_now = AFTER_CONTRAST
            neg_flips, neg_end, degree, deg_end = 0, -100, 1.0, -100
        else:
            value = LEXICON[word]
            if start - deg_end <= NEGATION_WINDOW:
                value *= degree
            if neg_flips and start - neg_end <= NEGATION_WINDOW and neg_flips % 2:
                value *= NEGATED
            value *= weight_now
            total += value
            clause.append((word, value))
            parts.append((word, value))
            neg_flips, neg_end, degree, deg_end = 0, -100, 1.0, -100
    return total, parts


def analyze_text(text: str) -> LexiconResult:
    raw, parts = score(text)
    sentiment = math.tanh(raw / 2)
    polarity = polarity_of(sentiment)
    # the lexicon is never very sure: 0.8 at most; no sentiment word at all: unknown
    confidence = round(min(0.8, 0.35 + abs(sentiment) * 0.5), 3) if parts else 0.0
    want = 1 if polarity == Polarity.POSITIVE else -1 if polarity == Polarity.NEGATIVE else 0
    ranked = sorted(parts, key=lambda p: -abs(p[1]))
    terms = [w for w, v in ranked if want == 0 or v * want > 0]
    return LexiconResult(round(sentiment, 4), polarity, confidence, list(dict.fromkeys(terms))[:5])
