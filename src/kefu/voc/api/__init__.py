"""The voice-of-customer API (/api/v1/voc/…); each module owns a router for its resources."""

from __future__ import annotations

from ninja import Router

from kefu.voc.api import analyze, feedback, insights, models, reviews, taxonomy

router = Router()
router.add_router("", reviews.router)
router.add_router("", feedback.router)
router.add_router("", taxonomy.router)
router.add_router("", analyze.router)
router.add_router("", models.router)
router.add_router("", insights.router)
