"""The OpenAPI document is valid OpenAPI 3.1 and says which version it describes."""

from __future__ import annotations

import pytest

from supervise.http.openapi import API_VERSION, document
from tests.http.openapi_check import ApiDocument


def test_document_is_valid_openapi_3_1_and_versioned() -> None:
    api = ApiDocument(document())
    assert api.document["openapi"].startswith("3.1")
    assert api.document["info"]["version"] == API_VERSION
    api.request("/api/action", {"action": "restart", "names": ["web"]})
    api.request(
        "/cluster/api/action", {"action": "stop", "targets": [{"node": "n1", "names": ["x"]}]}
    )
    with pytest.raises(Exception, match="is not one of"):
        api.request("/api/action", {"action": "explode", "names": ["web"]})
