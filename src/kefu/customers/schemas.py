from __future__ import annotations

from datetime import datetime

from ninja import Schema
from pydantic import ConfigDict, Field


class IdentityOut(Schema):
    kind: str
    value: str


class CustomerOut(Schema):
    id: int
    name: str
    vip_tier: str
    tags: list[str]
    identities: list[IdentityOut]
    merged_into_id: int | None = None
    created_at: datetime


class CustomerIn(Schema):
    """A customer named by any of their identities; phone numbers in any common form."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field("", max_length=100)
    phone: str | None = Field(None, max_length=40, examples=["138 0013 8000"])
    email: str | None = Field(None, max_length=190)
    wechat_openid: str | None = Field(None, max_length=190)
    shop_buyer: str | None = Field(None, max_length=190)
    member_id: str | None = Field(None, max_length=190)

    def identities(self) -> dict[str, str | None]:
        return {
            "phone": self.phone,
            "email": self.email,
            "wechat_openid": self.wechat_openid,
            "shop_buyer": self.shop_buyer,
            "member_id": self.member_id,
        }


class CustomerPage(Schema):
    items: list[CustomerOut]
    next_cursor: int | None


class MergeIn(Schema):
    model_config = ConfigDict(extra="forbid")

    target_id: int = Field(..., description="the customer that survives; this one is merged into it")
