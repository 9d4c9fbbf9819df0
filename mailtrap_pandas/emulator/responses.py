"""One handler per API endpoint: parsed request in, serialised response out.

As in moto's ``responses.py``, handlers only translate between HTTP and the
rules (:class:`~mailtrap_pandas.emulator.state.Backend`); authentication, rate
limiting and faults happen before them in :class:`~mailtrap_pandas.emulator.app.EmulatorApp`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
from werkzeug.wrappers import Request, Response

from mailtrap_pandas.emulator.errors import ImportUnprocessable, Unprocessable
from mailtrap_pandas.emulator.state import Backend

__all__ = ["HANDLERS", "Call", "empty_response", "json_response", "parse_body"]

JSON_TYPE = "application/json; charset=utf-8"


def json_response(body: Any, status: int = 200) -> Response:
    """A JSON response with the API's content type."""
    return Response(orjson.dumps(body), status=status, content_type=JSON_TYPE)


def empty_response(status: int = 204) -> Response:
    """An empty answer that still declares JSON, as the API's do."""
    resp = Response(b"", status=status)
    resp.headers["Content-Type"] = JSON_TYPE
    return resp


def parse_body(request: Request, endpoint: str) -> Any:
    """The JSON body (``None`` when blank), or the endpoint's 422 shape when it is not JSON."""
    raw = request.get_data()
    if not raw.strip():
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        msg = "request body is not valid JSON"
        if endpoint == "imports.create":
            raise ImportUnprocessable([{"email": "", "errors": {"base": [msg]}}]) from exc
        raise Unprocessable({"base": [msg]}) from exc


@dataclass(frozen=True)
class Call:
    """An authenticated, routed API request."""

    backend: Backend
    request: Request
    acct: int
    args: dict[str, Any]
    body: Any

    @property
    def ident(self) -> str:
        """The contact id or email in the path."""
        return str(self.args.get("ident", ""))


Handler = Callable[[Call], Response]
HANDLERS: dict[str, Handler] = {}


def _handles(endpoint: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        HANDLERS[endpoint] = fn
        return fn

    return register


@_handles("accounts.index")
def _accounts_index(call: Call) -> Response:
    return json_response(call.backend.accounts.index(call.acct))


@_handles("contacts.create")
def _contacts_create(call: Call) -> Response:
    return json_response({"data": call.backend.contacts.create(call.acct, call.body)}, 201)


@_handles("contacts.get")
def _contacts_get(call: Call) -> Response:
    return json_response({"data": call.backend.contacts.get(call.acct, call.ident)})


@_handles("contacts.update")
def _contacts_update(call: Call) -> Response:
    action, data = call.backend.contacts.upsert(call.acct, call.ident, call.body)
    return json_response({"action": action, "data": data})


@_handles("contacts.delete")
def _contacts_delete(call: Call) -> Response:
    call.backend.contacts.delete(call.acct, call.ident)
    return empty_response()


@_handles("events.create")
def _events_create(call: Call) -> Response:
    return json_response(call.backend.events.create(call.acct, call.ident, call.body), 201)


@_handles("imports.create")
def _imports_create(call: Call) -> Response:
    return json_response(call.backend.imports.create(call.acct, call.body), 201)


@_handles("imports.get")
def _imports_get(call: Call) -> Response:
    return json_response(call.backend.imports.get(call.acct, call.args["import_id"]))


def _export(call: Call, export: dict[str, Any], status: int) -> Response:
    if export["url"]:  # the rules give a path; the client reached us at this host
        export["url"] = call.request.host_url.rstrip("/") + export["url"]
    return json_response(export, status)


@_handles("exports.create")
def _exports_create(call: Call) -> Response:
    return _export(call, call.backend.exports.create(call.acct, call.body), 201)


@_handles("exports.get")
def _exports_get(call: Call) -> Response:
    return _export(call, call.backend.exports.get(call.acct, call.args["export_id"]), 200)


@_handles("lists.index")
def _lists_index(call: Call) -> Response:
    return json_response(call.backend.lists.index(call.acct, call.request.args.get("search")))


@_handles("lists.create")
def _lists_create(call: Call) -> Response:
    return json_response(call.backend.lists.create(call.acct, call.body), 200)  # 200, sic (SPEC)


@_handles("lists.get")
def _lists_get(call: Call) -> Response:
    return json_response(call.backend.lists.get(call.acct, call.args["list_id"]))


@_handles("lists.update")
def _lists_update(call: Call) -> Response:
    return json_response(call.backend.lists.update(call.acct, call.args["list_id"], call.body))


@_handles("lists.delete")
def _lists_delete(call: Call) -> Response:
    call.backend.lists.delete(call.acct, call.args["list_id"])
    return empty_response()


@_handles("fields.index")
def _fields_index(call: Call) -> Response:
    return json_response(call.backend.fields.index(call.acct))


@_handles("fields.create")
def _fields_create(call: Call) -> Response:
    return json_response(call.backend.fields.create(call.acct, call.body), 201)


@_handles("fields.get")
def _fields_get(call: Call) -> Response:
    return json_response(call.backend.fields.get(call.acct, call.args["field_id"]))


@_handles("fields.update")
def _fields_update(call: Call) -> Response:
    return json_response(call.backend.fields.update(call.acct, call.args["field_id"], call.body))


@_handles("fields.delete")
def _fields_delete(call: Call) -> Response:
    call.backend.fields.delete(call.acct, call.args["field_id"])
    return empty_response()
