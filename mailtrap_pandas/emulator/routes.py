"""The route table: every API route in both path styles, plus the control API.

API routes exist twice, once per path style: ``/api/accounts/<account_id>/contacts…``
(account-scoped) and ``/api/contacts…`` (token-scoped, acting on the token's
account), plus ``GET /api/accounts``. The control API lives under
``/_emulator/`` and needs no token.
"""

from __future__ import annotations

from typing import Any

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request

from mailtrap_pandas.emulator.errors import NotFound

__all__ = ["CONTACT_ROUTES", "CONTROL_ROUTES", "PREFIXES", "match", "route_map"]

INT64_MAX = 2**63 - 1
PREFIXES = ("/api/accounts/<int:account_id>/contacts", "/api/contacts")

# (path under a prefix, endpoint, methods)
CONTACT_ROUTES = (
    ("", "contacts.create", ["POST"]),
    ("/exports", "exports.create", ["POST"]),
    ("/exports/<int:export_id>", "exports.get", ["GET"]),
    ("/imports", "imports.create", ["POST"]),
    ("/imports/<int:import_id>", "imports.get", ["GET"]),
    ("/lists", "lists.index", ["GET"]),
    ("/lists", "lists.create", ["POST"]),
    ("/lists/<int:list_id>", "lists.get", ["GET"]),
    ("/lists/<int:list_id>", "lists.update", ["PATCH"]),
    ("/lists/<int:list_id>", "lists.delete", ["DELETE"]),
    ("/fields", "fields.index", ["GET"]),
    ("/fields", "fields.create", ["POST"]),
    ("/fields/<int:field_id>", "fields.get", ["GET"]),
    ("/fields/<int:field_id>", "fields.update", ["PATCH"]),
    ("/fields/<int:field_id>", "fields.delete", ["DELETE"]),
    # Static segments above win over this variable one (werkzeug sorts them first).
    ("/<ident>", "contacts.get", ["GET"]),
    ("/<ident>", "contacts.update", ["PATCH"]),
    ("/<ident>", "contacts.delete", ["DELETE"]),
    ("/<ident>/events", "events.create", ["POST"]),
)

CONTROL_ROUTES = (
    ("/_emulator/reset", "control.reset", ["POST"]),
    ("/_emulator/seed", "control.seed", ["POST"]),
    ("/_emulator/state", "control.state", ["GET"]),
    ("/_emulator/faults", "control.faults.add", ["POST"]),
    ("/_emulator/faults", "control.faults.clear", ["DELETE"]),
    ("/_emulator/faults", "control.faults.list", ["GET"]),
    ("/_emulator/jobs/advance", "control.jobs.advance", ["POST"]),
    ("/_emulator/files/<name>", "control.files.get", ["GET"]),
)


def route_map() -> Map:
    """Every route, API and control, as one werkzeug :class:`~werkzeug.routing.Map`."""
    rules = [Rule("/api/accounts", endpoint="accounts.index", methods=["GET"])]
    for prefix in PREFIXES:
        rules += [Rule(prefix + path, endpoint=ep, methods=m) for path, ep, m in CONTACT_ROUTES]
    rules += [Rule(path, endpoint=ep, methods=m) for path, ep, m in CONTROL_ROUTES]
    # merge_slashes/strict_slashes off: never answer an API call with a redirect.
    return Map(rules, merge_slashes=False, strict_slashes=False)


def match(url_map: Map, request: Request) -> tuple[str, dict[str, Any]]:
    """``(endpoint, path arguments)`` of a request, or the API's 404."""
    adapter = url_map.bind_to_environ(request.environ)
    try:
        endpoint, args = adapter.match()
    except HTTPException as exc:
        raise NotFound() from exc
    for key in ("list_id", "field_id", "import_id", "export_id"):
        # Ids beyond int64 cannot exist (and would overflow SQLite).
        if key in args and args[key] > INT64_MAX:
            raise NotFound()
    return str(endpoint), dict(args)
