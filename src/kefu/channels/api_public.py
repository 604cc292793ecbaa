"""Public endpoints without login for the mini-program: uploads and repair requests."""

from ninja import Router

router = Router(auth=None)
