"""Validating live answers of the consoles against their OpenAPI document."""

from __future__ import annotations

from typing import Any

from openapi_schema_validator import OAS31Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

BASE = "urn:supervise-api"


class ApiDocument:
    """The document, and a validator for any schema in it (``$ref`` resolved)."""

    def __init__(self, document: dict[str, Any]) -> None:
        from openapi_spec_validator import validate

        validate(document)  # the document itself is valid OpenAPI 3.1
        self.document = document
        resource = Resource.from_contents(document, default_specification=DRAFT202012)
        self.registry: Registry[Any] = Registry().with_resource(BASE, resource)

    def _validate(self, pointer: str, value: Any) -> None:
        OAS31Validator({"$ref": f"{BASE}#{pointer}"}, registry=self.registry).validate(value)

    def answer(self, path: str, method: str, status: int, body: Any) -> None:
        """``body`` is what the document says ``method path`` answers with ``status``."""
        responses = self.document["paths"][path][method]["responses"]
        assert str(status) in responses, f"{method} {path} is not documented to answer {status}"
        escaped = path.replace("~", "~0").replace("/", "~1")
        self._validate(
            f"/paths/{escaped}/{method}/responses/{status}/content/application~1json/schema", body
        )

    def request(self, path: str, body: Any) -> None:
        """``body`` is a request body the document accepts for ``POST path``."""
        escaped = path.replace("/", "~1")
        self._validate(f"/paths/{escaped}/post/requestBody/content/application~1json/schema", body)

    def event(self, path: str, name: str, data: Any) -> None:
        """``data`` is what the document says event ``name`` of stream ``path`` carries."""
        media = self.document["paths"][path]["get"]["responses"]["200"]["content"]
        target = media["text/event-stream"]["x-events"][name]["$ref"]
        self._validate(target.removeprefix("#"), data)
