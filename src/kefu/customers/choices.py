from django.db import models
from django.utils.translation import gettext_lazy as _


class IdentityKind(models.TextChoices):
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("Email")
    WECHAT_OPENID = "wechat_openid", _("WeChat openid")
    SHOP_BUYER = "shop_buyer", _("Shop buyer nick")
    MEMBER_ID = "member_id", _("Member id")


class Platform(models.TextChoices):
    TMALL = "tmall", _("Tmall")
    JD = "jd", _("JD")
    OWN_SITE = "own_site", _("Own site")
    MINI_PROGRAM = "mini_program", _("Mini-program")
    OFFLINE = "offline", _("Offline")


class VipTier(models.TextChoices):
    NONE = "", _("None")
    SILVER = "silver", _("Silver")
    GOLD = "gold", _("Gold")
    PLATINUM = "platinum", _("Platinum")
