"""The OpenAPI 3.1 document of the consoles' HTTP JSON API, served at ``/api/openapi.json``.

One document describes the node console (``/api/…``, ``/logtail/…``) and the cluster
console (``/cluster/api/…``, ``/cluster/logtail/…``). The API's version is
``API_VERSION``: ``info.version`` carries it, and every answer of the API carries it in
the ``Supervise-API-Version`` header. Additive changes (a new field, a new route) keep
the major number; anything a client could trip over raises it. docs/api.md explains it.
"""

from __future__ import annotations

import json
from typing import Any

from twisted.web import resource
from twisted.web.iweb import IRequest

#: The API's version: ``MAJOR.MINOR``; the header carries it whole.
API_VERSION = "1.0"
VERSION_HEADER = b"supervise-api-version"

Schema = dict[str, Any]


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def obj(required: dict[str, Schema], optional: dict[str, Schema] | None = None) -> Schema:
    """An object with these required properties (more may appear: additive changes)."""
    return {
        "type": "object",
        "required": sorted(required),
        "properties": {**required, **(optional or {})},
    }


STRING: Schema = {"type": "string"}
INTEGER: Schema = {"type": "integer"}
NUMBER: Schema = {"type": "number"}
BOOLEAN: Schema = {"type": "boolean"}
STATES = [
    "STOPPED", "STARTING", "RUNNING", "BACKOFF", "STOPPING", "EXITED", "FATAL", "UNKNOWN",
]  # fmt: skip


def array(items: Schema) -> Schema:
    return {"type": "array", "items": items}


def schemas() -> dict[str, Schema]:
    """The components: rows, nodes, daemons, actions and their answers."""
    process = obj(
        {
            "namespec": STRING, "name": STRING, "group": STRING,
            "state": {"type": "string", "enum": STATES},
            "pid": INTEGER, "start": NUMBER, "stop": NUMBER, "exitstatus": INTEGER,
            "spawnerr": STRING, "restarts": INTEGER,
            "ready": {"type": "string", "description": "the ready check, empty if none"},
            "health": {"type": "string", "enum": ["", "ok", "failing"]},
            "health_failures": INTEGER, "adopted": BOOLEAN,
            "stdout": {"type": "boolean", "description": "a stdout log file exists"},
            "stderr": {"type": "boolean", "description": "a stderr log file exists"},
        }
    )  # fmt: skip
    process["description"] = "One process as the console shows it; times in epoch seconds."
    cluster_process = {
        "allOf": [
            ref("Process"),
            obj(
                {"node": STRING, "seq": INTEGER},
                {"key": {"type": "string", "description": "node/namespec"}},
            ),
        ]
    }
    cluster_link = obj(
        {
            "node": STRING,
            "redis": {"type": "string", "enum": ["up", "unreachable"]},
            "down_since": {"type": ["number", "null"]},
            "applied": {"type": "integer", "description": "the cluster revision run"},
            "refused": {"type": "string", "description": "why the newest revision was refused"},
        }
    )
    daemon = obj(
        {
            "identification": STRING, "version": STRING, "state": STRING, "pid": INTEGER,
            "cluster": {"oneOf": [{"type": "null"}, ref("ClusterLink")]},
        }
    )  # fmt: skip
    cluster_daemon = obj(
        {
            "identification": STRING, "version": STRING, "state": STRING, "pid": INTEGER,
            "redis": {"type": "string", "description": "Redis's address, never credentials"},
            "redis_up": BOOLEAN,
        }
    )  # fmt: skip
    node = obj(
        {
            "name": STRING, "heartbeat": NUMBER, "age": NUMBER, "reachable": BOOLEAN,
            "host": STRING, "labels": array(STRING), "version": STRING, "pid": INTEGER,
            "applied": INTEGER, "refused": STRING, "unreachable_after": NUMBER,
        }
    )  # fmt: skip
    result = obj({"name": STRING, "ok": BOOLEAN, "error": STRING})
    actions = {"type": "string", "enum": ["start", "stop", "restart", "signal", "clearlog"]}
    return {
        "Process": process,
        "ClusterProcess": cluster_process,
        "ClusterLink": cluster_link,
        "Daemon": daemon,
        "ClusterDaemon": cluster_daemon,
        "Node": node,
        "NodeStatus": obj(
            {"now": NUMBER, "daemon": ref("Daemon"), "processes": array(ref("Process"))}
        ),
        "NodeUpdate": obj({"now": NUMBER, "processes": array(ref("Process"))}),
        "ClusterStatus": obj(
            {
                "now": NUMBER,
                "daemon": ref("ClusterDaemon"),
                "nodes": array(ref("Node")),
                "processes": array(ref("ClusterProcess")),
            }
        ),
        "ClusterUpdate": obj(
            {"now": NUMBER, "processes": array(ref("ClusterProcess"))},
            {"nodes": array(ref("Node")), "removed": array(STRING)},
        ),
        "ActionRequest": obj(
            {"action": actions, "names": {**array(STRING), "minItems": 1}},
            {"signal": {"type": "string", "description": "for signal: HUP, TERM, 15 …"}},
        ),
        "ActionAnswer": obj({"action": STRING, "results": array(ref("ActionResult"))}),
        "ActionResult": result,
        "ClusterActionRequest": obj(
            {
                "action": actions,
                "targets": {
                    **array(obj({"node": STRING, "names": {**array(STRING), "minItems": 1}})),
                    "minItems": 1,
                },
            },
            {"signal": STRING},
        ),
        "ClusterActionAnswer": obj(
            {"results": array({"allOf": [ref("ActionResult"), obj({"node": STRING})]})}
        ),
        "Error": obj({"error": {"type": "string", "description": "what went wrong, in words"}}),
        "AuditRecord": obj(
            {
                "time": NUMBER,
                "node": {"type": "string", "description": "where it ran (`*`: the cluster)"},
                "who": STRING,
                "where": STRING,
                "door": STRING,
                "action": STRING,
                "targets": array(STRING),
                "result": {"type": "string", "description": "`ok…`, `refused: …`, `failed: …`"},
            }
        ),
        "AuditTrail": obj({"entries": array(ref("AuditRecord"))}),
    }


def answer(description: str, schema: Schema) -> Schema:
    return {
        "description": description,
        "headers": {"Supervise-API-Version": {"$ref": "#/components/headers/Version"}},
        "content": {"application/json": {"schema": schema}},
    }


def errors(*codes: int) -> dict[str, Schema]:
    words = {
        400: "the request is malformed (the error says how)",
        403: "refused: a cross-site request, or a role that may not do this",
        404: "no such node or process",
        413: "the body is larger than 1 MiB",
        415: "the body is not application/json",
    }
    return {str(code): answer(words[code], ref("Error")) for code in codes}


def events(description: str, **named: str) -> Schema:
    """A Server-Sent Events stream; ``x-events`` maps each event name to its data schema."""
    return {
        "description": description,
        "headers": {"Supervise-API-Version": {"$ref": "#/components/headers/Version"}},
        "content": {
            "text/event-stream": {
                "schema": STRING,
                "x-events": {name: ref(schema) for name, schema in named.items()},
            }
        },
    }


def text_stream(description: str) -> Schema:
    return {"description": description, "content": {"text/plain": {"schema": STRING}}}


def action(summary: str, request: str, reply: str) -> Schema:
    return {
        "post": {
            "summary": summary,
            "security": [{"basic": [], "token": []}, {"token": []}],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": ref(request)}},
            },
            "responses": {
                "200": answer("one result per process, errors in words", ref(reply)),
                **errors(400, 403, 413, 415),
            },
        }
    }


def paths() -> dict[str, Schema]:
    name = {"name": "name", "in": "path", "required": True, "schema": STRING}
    channel = {
        "name": "channel", "in": "path", "required": True,
        "schema": {"type": "string", "enum": ["stdout", "stderr"]},
    }  # fmt: skip
    node = {"name": "node", "in": "path", "required": True, "schema": STRING}
    return {
        "/api/openapi.json": {
            "get": {
                "summary": "This document",
                "responses": {"200": answer("the OpenAPI document", {"type": "object"})},
            }
        },
        "/api/status": {
            "get": {
                "summary": "The daemon and every process, once (what the event stream's snapshot holds)",
                "responses": {"200": answer("the daemon and its processes", ref("NodeStatus"))},
            }
        },
        "/api/events": {
            "get": {
                "summary": "The node console's live feed",
                "description": "A `snapshot` event first (and again after the client fell "
                "behind or the daemon's own state changed), then `update` events with only "
                "the rows that changed.",
                "responses": {
                    "200": events("Server-Sent Events", snapshot="NodeStatus", update="NodeUpdate")
                },
            }
        },
        "/api/action": action(
            "Start, stop, restart, signal or clear the logs of processes",
            "ActionRequest",
            "ActionAnswer",
        ),
        "/logtail/{name}": {
            "get": {
                "summary": "Follow a process's stdout log",
                "parameters": [name],
                "responses": {"200": text_stream("the log's tail, then what is written")},
            }
        },
        "/logtail/{name}/{channel}": {
            "get": {
                "summary": "Follow a process's stdout or stderr log",
                "parameters": [name, channel],
                "responses": {"200": text_stream("the log's tail, then what is written")},
            }
        },
        "/mainlogtail": {
            "get": {
                "summary": "Follow the daemon's main log",
                "responses": {"200": text_stream("the main log's tail, then what is written")},
            }
        },
        "/cluster/api/status": {
            "get": {
                "summary": "Every node and every process of the cluster, once",
                "responses": {"200": answer("nodes and processes", ref("ClusterStatus"))},
            }
        },
        "/cluster/api/events": {
            "get": {
                "summary": "The cluster console's live feed",
                "responses": {
                    "200": events(
                        "Server-Sent Events", snapshot="ClusterStatus", update="ClusterUpdate"
                    )
                },
            }
        },
        "/cluster/api/action": action(
            "Act on processes of any node (operators and admins; viewers get 403)",
            "ClusterActionRequest",
            "ClusterActionAnswer",
        ),
        "/cluster/api/audit": {
            "get": {
                "summary": "The cluster's audit trail, oldest first (admins only)",
                "parameters": [
                    {
                        "name": "count",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "integer", "minimum": 1, "maximum": 10000},
                    }
                ],
                "responses": {
                    "200": answer("the newest records", ref("AuditTrail")),
                    **errors(400, 403),
                    "503": answer("Redis is unreachable", ref("Error")),
                },
            }
        },
        "/cluster/logtail/{node}/{name}/{channel}": {
            "get": {
                "summary": "Follow a log of a process on another node, fetched through Redis",
                "parameters": [node, name, channel],
                "responses": {
                    "200": text_stream("the log's tail, then what is written"),
                    "404": {"description": "no such node or channel"},
                },
            }
        },
    }


def document() -> dict[str, Any]:
    """The whole OpenAPI 3.1 document."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "supervise console API",
            "version": API_VERSION,
            "description": "The JSON endpoints of supervise's node console and cluster "
            "console. Every answer carries the API version in the `Supervise-API-Version` "
            "header. XML-RPC (`/RPC2`) is supervisord's and is described by its own docs.",
        },
        "paths": paths(),
        "components": {
            "schemas": schemas(),
            "headers": {
                "Version": {
                    "description": "the API version of this answer (`info.version`)",
                    "schema": STRING,
                }
            },
            "securitySchemes": {
                "basic": {
                    "type": "http",
                    "scheme": "basic",
                    "description": "when the HTTP server (or the cluster console) has users",
                },
                "token": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-Supervise-Token",
                    "description": "the page's cross-site token (its "
                    "`meta[name=supervise-token]`); required on every POST",
                },
            },
        },
    }


def mark(request: IRequest) -> None:
    """Say which API version an answer speaks."""
    request.setHeader(VERSION_HEADER, API_VERSION.encode())


class OpenApiDocument(resource.Resource):
    """``/api/openapi.json``."""

    isLeaf = True  # noqa: N815 - Twisted's name

    body = b""  # built on first use: a daemon whose API nobody reads never builds it

    def render_GET(self, request: IRequest) -> bytes:  # noqa: N802 - Twisted's name
        if not OpenApiDocument.body:
            OpenApiDocument.body = json.dumps(document(), indent=1).encode()
        request.setHeader(b"content-type", b"application/json")
        mark(request)
        return OpenApiDocument.body
