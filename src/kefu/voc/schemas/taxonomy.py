"""Schemas of the taxonomy API: nested trees, node creation and changes."""

from __future__ import annotations

from ninja import Schema
from pydantic import ConfigDict, Field


class NodeOut(Schema):
    id: int
    kind: str
    parent_id: int | None
    name: str
    name_en: str
    level: int
    position: int
    keywords: list[str]
    is_active: bool
    path: str = ""
    item_count: int = Field(0, description="feedback items labelled with this node or a node below it")
    children: list[NodeOut] = Field(default_factory=list)


class NodeCreateIn(Schema):
    model_config = ConfigDict(extra="forbid")

    parent_id: int | None = Field(None, description="the parent node; none for a top-level node")
    name: str = Field(..., max_length=60)
    name_en: str = Field("", max_length=80)
    keywords: list[str] | str = Field("", description="one per line, or a list")
    position: int | None = Field(None, ge=0, description="default: after the last sibling")


class NodePatchIn(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, max_length=60)
    name_en: str | None = Field(None, max_length=80)
    keywords: list[str] | str | None = None
    parent_id: int | None = Field(None, description="move under this node; null makes it top-level")
    position: int | None = Field(None, ge=0)
    is_active: bool | None = Field(None, description="false deactivates (nodes are never deleted)")
