import json

import pytest
from django.test import Client


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "uploads"


class ApiClient:
    """A JSON client for /api/v1 authenticated with a real bearer token."""

    def __init__(self, user=None):
        headers = {}
        if user is not None:
            from kefu.accounts.services import create_api_token

            _, raw = create_api_token(actor=None, user=user, name="test")
            headers["HTTP_AUTHORIZATION"] = f"Bearer {raw}"
        self.client = Client(**headers)

    def _url(self, path):
        return path if path.startswith("/") else f"/api/v1/{path}"

    def get(self, path, **params):
        return self.client.get(self._url(path), params)

    def post(self, path, data=None, **extra):
        return self.client.post(
            self._url(path), json.dumps(data or {}), content_type="application/json", **extra
        )

    def patch(self, path, data=None, **extra):
        return self.client.patch(
            self._url(path), json.dumps(data or {}), content_type="application/json", **extra
        )

    def multipart(self, path, data, **extra):
        return self.client.post(self._url(path), data, **extra)


@pytest.fixture
def api():
    """`api(user)` → ApiClient with a token for that user; `api()` → anonymous."""
    return ApiClient
