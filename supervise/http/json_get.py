"""Read-only JSON endpoints of the consoles (``/api/status``, ``/cluster/api/status``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from twisted.web import resource
from twisted.web.iweb import IRequest

from supervise.http.json_post import json_answer


class JsonView(resource.Resource):
    """A GET answered with ``view()`` as JSON (never cached)."""

    isLeaf = True  # noqa: N815 - Twisted's name

    def __init__(self, view: Callable[[], Mapping[str, Any]]) -> None:
        super().__init__()
        self.view = view

    def render_GET(self, request: IRequest) -> bytes:  # noqa: N802 - Twisted's name
        return json_answer(request, 200, dict(self.view()))
