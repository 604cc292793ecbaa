"""The closed-loop API (/api/v1/loops/…); each module owns a router for its resources."""

from __future__ import annotations

from ninja import Router

from kefu.loops.api import actions, remediation, reports, risks

router = Router()
router.add_router("", actions.router)
router.add_router("", remediation.router)
router.add_router("", risks.router)
router.add_router("", reports.router)
