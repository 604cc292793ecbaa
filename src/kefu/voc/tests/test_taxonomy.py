"""Touchpoint and cause trees: services (create, rename, move, depth, uniqueness, audit), the demo
seed, selectors (tree, descendants, paths), the API and the page."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone, translation

from kefu.accounts.tests.factories import UserFactory
from kefu.audit.models import AuditEvent
from kefu.core.errors import Conflict, PermissionDenied, ValidationFailed
from kefu.voc.demo_taxonomy import seed_taxonomies
from kefu.voc.models import FeedbackItem, TaxonomyNode
from kefu.voc.selectors import taxonomy as selectors
from kefu.voc.services.taxonomy import create_node, update_node

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin():
    return UserFactory(username="voc-admin", role="admin")


@pytest.fixture
def agent():
    return UserFactory(username="voc-agent", role="agent")


@pytest.fixture
def tree(admin):
    """产品 › 质量, 产品 › 性能/噪音 › 噪音大; 物流 › 配送慢."""
    product = create_node(actor=admin, kind="cause", parent_id=None, name="产品", name_en="Product")
    quality = create_node(actor=admin, kind="cause", parent_id=product.pk, name="质量", keywords="坏了\n故障")
    noise = create_node(
        actor=admin, kind="cause", parent_id=product.pk, name="性能/噪音", name_en="Performance / noise"
    )
    loud = create_node(actor=admin, kind="cause", parent_id=noise.pk, name="噪音大")
    logistics = create_node(actor=admin, kind="cause", parent_id=None, name="物流")
    slow = create_node(actor=admin, kind="cause", parent_id=logistics.pk, name="配送慢")
    return {
        "product": product,
        "quality": quality,
        "noise": noise,
        "loud": loud,
        "logistics": logistics,
        "slow": slow,
    }


def _item(node, key="k1", text="制氧机噪音太大"):
    now = timezone.now()
    return FeedbackItem.objects.create(
        source="ticket_created",
        source_key=key,
        text=text,
        occurred_at=now,
        cause=node,
        cause_source="person",
        created_at=now,
        updated_at=now,
    )


def test_create_node_sets_level_position_and_audits(admin, tree):
    # given the tree; then levels follow the parents and siblings are ordered by creation
    assert (tree["product"].level, tree["noise"].level, tree["loud"].level) == (1, 2, 3)
    assert tree["quality"].position == 0 and tree["noise"].position == 1
    assert tree["quality"].keywords == "坏了\n故障"
    event = AuditEvent.objects.filter(verb="voc.taxonomy_node_created", subject_id=tree["loud"].pk).get()
    assert event.data["name"] == "噪音大" and event.data["parent_id"] == tree["noise"].pk


def test_names_are_unique_among_siblings_only(admin, tree):
    # when a sibling with the same name is added, then it is refused naming "name"
    with pytest.raises(Conflict) as exc:
        create_node(actor=admin, kind="cause", parent_id=tree["product"].pk, name="质量")
    assert exc.value.field == "name"
    # but the same name elsewhere in the tree is fine
    create_node(actor=admin, kind="cause", parent_id=tree["logistics"].pk, name="质量")


def test_only_taxonomy_editors_may_change_trees(agent, tree):
    with pytest.raises(PermissionDenied):
        create_node(actor=agent, kind="cause", parent_id=None, name="服务")
    with pytest.raises(PermissionDenied):
        update_node(actor=agent, node_id=tree["quality"].pk, name="品质")


def test_no_fourth_level(admin, tree):
    with pytest.raises(ValidationFailed) as exc:
        create_node(actor=admin, kind="cause", parent_id=tree["loud"].pk, name="太深")
    assert exc.value.field == "parent_id"


def test_rename_and_move_keep_item_labels_and_levels(admin, tree):
    # given an item labelled 产品 › 性能/噪音 › 噪音大
    item = _item(tree["loud"])
    # when 噪音大 is renamed and its parent 性能/噪音 moves to the top level
    update_node(actor=admin, node_id=tree["loud"].pk, name="噪音")
    update_node(actor=admin, node_id=tree["noise"].pk, parent_id=None)
    # then the item still points at the node, now at path 性能/噪音 › 噪音, levels shifted up
    item.refresh_from_db()
    assert item.cause_id == tree["loud"].pk
    with translation.override("zh-hans"):
        assert selectors.path_names(item.cause_id) == "性能/噪音 › 噪音"
    tree["noise"].refresh_from_db()
    tree["loud"].refresh_from_db()
    assert (tree["noise"].level, tree["loud"].level) == (1, 2)
    # and the change is audited with from/to
    event = AuditEvent.objects.filter(verb="voc.taxonomy_node_changed", subject_id=tree["noise"].pk).get()
    assert event.data["from"] == {"parent_id": tree["product"].pk, "position": 1}
    assert event.data["to"]["parent_id"] is None


def test_move_under_own_descendant_or_too_deep_is_refused(admin, tree):
    with pytest.raises(ValidationFailed) as exc:
        update_node(actor=admin, node_id=tree["product"].pk, parent_id=tree["loud"].pk)
    assert exc.value.field == "parent_id"
    # 性能/噪音 has a child, so under 配送慢 (level 2) it would need a fourth level
    with pytest.raises(ValidationFailed) as exc:
        update_node(actor=admin, node_id=tree["noise"].pk, parent_id=tree["slow"].pk)
    assert exc.value.field == "parent_id"
    tree["noise"].refresh_from_db()
    assert tree["noise"].parent_id == tree["product"].pk


def test_move_into_a_parent_with_the_same_name_is_refused(admin, tree):
    create_node(actor=admin, kind="cause", parent_id=tree["logistics"].pk, name="性能/噪音")
    with pytest.raises(Conflict):
        update_node(actor=admin, node_id=tree["noise"].pk, parent_id=tree["logistics"].pk)


def test_deactivate_never_deletes(admin, tree):
    update_node(actor=admin, node_id=tree["quality"].pk, is_active=False)
    tree["quality"].refresh_from_db()
    assert tree["quality"].is_active is False
    active = [t.node.name for t in selectors.flatten(selectors.taxonomy_tree("cause", active_only=True))]
    assert "质量" not in active and "产品" in active


def test_selectors_descendants_paths_and_english(tree):
    assert set(selectors.descendant_ids(tree["product"].pk)) == {
        tree["product"].pk,
        tree["quality"].pk,
        tree["noise"].pk,
        tree["loud"].pk,
    }
    with translation.override("zh-hans"):
        assert selectors.path_names(tree["noise"].pk) == "产品 › 性能/噪音"
    with translation.override("en"):
        assert selectors.path_names(tree["noise"].pk) == "Product › Performance / noise"
        assert selectors.node_paths("cause")[tree["quality"].pk] == "Product › 质量"  # no name_en
    names = [t.node.name for t in selectors.taxonomy_tree("cause")]
    assert names == ["产品", "物流"]


def test_seed_is_idempotent_and_has_the_touchpoint_lifecycle():
    created = seed_taxonomies()
    assert created > 40
    assert seed_taxonomies() == 0
    roots = [t.node.name for t in selectors.taxonomy_tree("touchpoint")]
    assert roots == ["了解认知", "购买", "配送安装", "使用维护", "维修退换"]
    with translation.override("zh-hans"):
        paths = set(selectors.node_paths("touchpoint").values()) | set(selectors.node_paths("cause").values())
    assert "使用维护 › 产品使用 › 噪音" in paths
    assert "产品 › 性能/噪音" in paths and "物流 › 配送慢" in paths
    assert not TaxonomyNode.objects.filter(name_en="").exists()
    assert TaxonomyNode.objects.filter(level__gt=3).count() == 0


def test_api_tree_create_patch(api, admin, agent, tree):
    # read: anyone with voc.view gets the nested tree
    response = api(agent).get("voc/taxonomies/cause")
    assert response.status_code == 200
    body = response.json()
    assert [n["name"] for n in body] == ["产品", "物流"]
    assert body[0]["children"][1]["children"][0]["path"] == "产品 › 性能/噪音 › 噪音大"
    assert api(agent).get("voc/taxonomies/nonsense").json()["field"] == "kind"
    # create: admins only
    payload = {"parent_id": tree["logistics"].pk, "name": "包装", "keywords": ["破损", "压坏"]}
    assert api(agent).post("voc/taxonomies/cause/nodes", payload).status_code == 403
    response = api(admin).post("voc/taxonomies/cause/nodes", payload)
    assert response.status_code == 201, response.content
    assert response.json()["keywords"] == ["破损", "压坏"] and response.json()["level"] == 2
    # a duplicate name among siblings is a clear 4xx naming "name"
    response = api(admin).post("voc/taxonomies/cause/nodes", payload)
    assert response.status_code == 409 and response.json()["field"] == "name"
    # patch: move and rename
    node_id = tree["quality"].pk
    response = api(admin).patch(f"voc/taxonomies/nodes/{node_id}", {"parent_id": None, "name": "品质"})
    assert response.status_code == 200
    assert response.json()["level"] == 1 and response.json()["path"] == "品质"
    response = api(admin).patch(f"voc/taxonomies/nodes/{tree['product'].pk}", {"parent_id": tree["loud"].pk})
    assert response.status_code == 422 and response.json()["field"] == "parent_id"
    assert api(admin).patch("voc/taxonomies/nodes/999999", {"name": "x"}).status_code == 404


@pytest.fixture
def web():
    def login(user):
        client = Client(HTTP_ACCEPT_LANGUAGE="en")
        client.force_login(user)
        return client

    return login


def test_page_shows_tree_with_counts_and_edits_through_htmx(web, admin, agent, tree):
    _item(tree["loud"])
    # an agent reads the tree, with counts rolled up, without edit forms
    page = web(agent).get("/voc/taxonomy/cause/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "性能/噪音" in html and 'data-testid="rename-form"' not in html
    counts = {t.node.name: t.count for t in page.context["rows"]}
    assert counts["产品"] == 1 and counts["噪音大"] == 1 and counts["物流"] == 0
    # an agent may not post
    assert (
        web(agent).post(f"/voc/taxonomy/nodes/{tree['quality'].pk}/", {"action": "rename"}).status_code == 403
    )
    # an admin renames through htmx and gets the tree back
    client = web(admin)
    response = client.post(
        f"/voc/taxonomy/nodes/{tree['quality'].pk}/",
        {"action": "rename", "name": "品质", "name_en": "Quality"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200 and "品质" in response.content.decode()
    assert "HX-Trigger" in response
    # adds a child, refuses a duplicate with a toast
    response = client.post(
        "/voc/taxonomy/cause/nodes/",
        {"parent_id": tree["logistics"].pk, "name": "包装"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200 and TaxonomyNode.objects.filter(name="包装").exists()
    response = client.post(
        "/voc/taxonomy/cause/nodes/",
        {"parent_id": tree["logistics"].pk, "name": "包装"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 409 and "kf-toast" in response["HX-Trigger"]
    # deactivates; a plain (non-htmx) move under a descendant shows the error on the page
    client.post(f"/voc/taxonomy/nodes/{tree['slow'].pk}/", {"action": "deactivate"}, HTTP_HX_REQUEST="true")
    tree["slow"].refresh_from_db()
    assert not tree["slow"].is_active
    response = client.post(
        f"/voc/taxonomy/nodes/{tree['product'].pk}/", {"action": "move", "parent_id": tree["noise"].pk}
    )
    assert response.status_code == 422 and 'data-testid="taxonomy-error"' in response.content.decode()
    assert client.get("/voc/taxonomy/nonsense/").status_code == 404


def test_seeded_keywords_label_typical_complaints():
    # given the seeded trees and no trained model
    from kefu.voc import textmodels

    seed_taxonomies()
    with translation.override("zh-hans"):
        paths = {**selectors.node_paths("cause"), **selectors.node_paths("touchpoint")}
    # when the out-of-the-box classifier reads two typical complaints
    noise, late = textmodels.analyze(["制氧机噪音太大", "快递三天还没到"])
    # then the keywords put them where a person would
    assert paths[noise.cause.node_id] == "产品 › 性能/噪音"
    assert paths[noise.touchpoint.node_id] == "使用维护 › 产品使用 › 噪音"
    assert paths[late.cause.node_id] == "物流 › 配送慢"
    assert paths[late.touchpoint.node_id] == "配送安装 › 物流配送 › 配送慢"
