"""The rules of the Contacts API: one small class per resource, no HTTP here.

Like moto's per-model split, each resource lives in its own module and works
on the one shared :class:`~mailtrap_pandas.emulator.store.Store`:
``accounts`` (tokens and accounts), ``contacts``, ``events``, ``lists``,
``fields``, ``imports`` (validation, the job record and the bulk upsert a
finished job applies), ``exports`` (filters, the job record, the files).
``lookups`` holds the few queries several resources need, ``common`` the ids,
timestamps and request-shape helpers, ``jobboard`` the in-memory job controls.
:class:`~mailtrap_pandas.emulator.state.Backend` assembles them.

Rules raise the errors of :mod:`mailtrap_pandas.emulator.errors`, which carry
the exact status and body. Behaviour the public API leaves undocumented is
decided here; every such decision is listed in the package docstring of
:mod:`mailtrap_pandas.emulator`.
"""
