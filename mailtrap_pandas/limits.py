"""The API's documented limits, each spelled once (FACTS.md §3; README "API behaviour we assume").

At the bottom of the package: conversion, the wire and the jobs all check against these.
"""

from __future__ import annotations

__all__ = ["MAX_CONTACTS_PER_IMPORT", "MAX_EVENT_NAME_LENGTH", "MAX_TEXT_LENGTH"]

#: Contacts in one bulk-import request.
MAX_CONTACTS_PER_IMPORT = 50_000
#: Characters of a text field value.
MAX_TEXT_LENGTH = 255
#: Characters of a custom event's name.
MAX_EVENT_NAME_LENGTH = 255
