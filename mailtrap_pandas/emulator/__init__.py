"""A local emulator of the Mailtrap Contacts API (what moto is to AWS).

    from mailtrap_pandas.emulator import Emulator
    with Emulator() as emu:
        client = emu.client()

Layout (moto-style): ``store`` (SQLite); ``rules/`` (one small class per
resource: accounts, contacts, events, lists, fields, imports, exports, all on
the one store) assembled by ``state.Backend``; ``errors`` (exact API error
bodies); ``jobs`` (import/export lifecycle); ``exportfile`` (the CSV layout);
``faults``; ``ratelimit``; ``routes`` (the route table); ``responses`` (one
handler per endpoint, parse/serialise only); ``control`` (``/_emulator/``);
``app`` (WSGI: faults, token, limits) and ``server`` (:class:`Emulator`,
:func:`serve`).

Behaviour the real API leaves undocumented and that the emulator ASSUMES
------------------------------------------------------------------------
- 422 messages are flat arrays: ``{"errors": {"attr": ["msg", ...]}}``.
- ``POST /contacts`` with an existing email → 422 ``email: ["has already been taken"]``;
  ``unsubscribed: true`` is honoured on create too.
- Emails match case-insensitively (stored as given, looked up lower-cased);
  syntax check: one ``@``, non-empty local part, a dot in the domain, no spaces.
- ``PATCH /contacts/{id}``: unknown UUID → 404 ``{"error":"Not Found"}``; any other
  unknown identifier creates the contact (email = body ``email`` or the identifier);
  body ``email`` is optional and renames an existing contact (422 if taken);
  ``unsubscribed: false`` re-subscribes.
- ``null`` as a field value clears the field (create/PATCH/import); unset fields
  are left out of ``fields``.
- Type errors in field values → ``<merge_tag>: ["is invalid"]``; text over 255 →
  ``"is too long (maximum is 255 characters)"``; floats come back as floats.
- Unknown merge tags → ``fields: ["contains invalid values: a, b"]``; unknown list ids →
  ``<attr>: ["contains invalid values: 7, 9"]``; non-integer ids →
  ``["contains invalid data"]`` (attr = ``list_ids`` / ``list_ids_included`` /
  ``list_ids_excluded``).
- Limits: 41st field → ``base: ["cannot have more than 40 fields"]``; 51st list →
  ``base: ["cannot have more than 50 lists"]``; list and field names and merge tags
  unique case-insensitively; merge tags match ``^[A-Za-z_][A-Za-z0-9_]*$`` and may not
  be ``id, email, status, list_ids, created_at, updated_at`` (``"is reserved"``: they
  are export columns); field ``data_type`` change → ``data_type: ["can't be changed"]``.
- ``GET /fields`` lists custom fields only (no built-in email); deleting a field
  hides its values; deleting a list keeps its contacts.
- Lists ``GET ?search=`` is a case-insensitive name prefix match.
- Imports: any invalid contact rejects the whole request, one entry per failing
  email (``"email": ""`` when it has none); >50,000 → one entry for the first email
  with ``base: ["cannot import more than 50000 contacts at once"]``; an empty or
  missing ``contacts`` → ``contacts: ["must be a non-empty array"]``; duplicates in one
  request: the last one wins; new contacts past ``max_contacts`` are skipped and
  counted in ``contacts_over_limit_count``; a ``failed`` import changes nothing.
  ``POST`` answers ``{"id", "status": "created"}``.
- Exports: filters AND-combined; a ``list_id`` filter matches members of any listed
  list; missing/empty filters export everything; anything malformed →
  ``{"errors": {"filters": "invalid"}}``; a new export is refused while the previous
  one is not ``finished``; the file URL needs no token and does not expire. The
  CSV layout is documented in :mod:`mailtrap_pandas.emulator.exportfile`.
- Events: ``params`` optional (default ``{}``); string values ≤255 chars
  (``"value for 'k' is too long"``); non-scalar values → ``"value for 'k' is invalid"``.
- Body that is not JSON → 422 ``{"errors": {"base": ["request body is not valid JSON"]}}``
  (import shape on the import endpoint). Unknown routes/methods → 404
  ``{"error": "Not Found"}``.
- Rate limits: 429 requests are not counted; ``X-Ratelimit-*`` headers report the
  per-token window (like the real API) on every API response while limits are on,
  and are left out when limits are off. No ``Retry-After`` unless a fault asks.
- A missing or wrong token is a 401 on every API path, checked before routing or any
  lookup (an unknown route or id, e.g. ``GET …/exports/-1``, is a 401 too), so an
  unauthenticated caller learns nothing about what exists.
- Faults are matched before routing and authentication; control and file URLs are
  never rate limited, faulted or counted. File URLs need no token (they stand for the
  real API's pre-signed download URLs; the random part of the name is the secret).
"""

from __future__ import annotations

from mailtrap_pandas.emulator.server import DEFAULT, Emulator, serve

__all__ = ["DEFAULT", "Emulator", "serve"]
