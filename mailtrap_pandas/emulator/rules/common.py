"""Ids, timestamps and the request-shape check every resource uses."""

from __future__ import annotations

import functools
import os
import random
import time
import uuid
from typing import Any

from mailtrap_pandas.emulator.errors import Unprocessable

__all__ = ["Json", "body_obj", "iso_ms", "new_contact_id", "now_ms"]

Json = dict[str, Any]
_RNG = random.Random(os.urandom(16))


def now_ms() -> int:
    """Current time as epoch milliseconds."""
    return time.time_ns() // 1_000_000


def new_contact_id(ms: int | None = None) -> str:
    """A UUIDv7-shaped id: 48-bit millisecond timestamp, version 7, random rest."""
    ms = now_ms() if ms is None else ms
    rand = _RNG.getrandbits(80)  # ids need uniqueness, not secrecy: skip a syscall each
    value = (ms & (2**48 - 1)) << 80
    value |= 0x7 << 76
    value |= ((rand >> 62) & 0xFFF) << 64
    value |= 0b10 << 62
    value |= rand & (2**62 - 1)
    return str(uuid.UUID(int=value))


@functools.lru_cache(maxsize=8192)  # bulk-written contacts share timestamps
def iso_ms(ms: int) -> str:
    """Epoch milliseconds → ``2026-04-28T12:40:45.519Z``."""
    secs, rem = divmod(ms, 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs)) + f".{rem:03d}Z"


def body_obj(body: Any, key: str | None = None) -> Json:
    """The request object (optionally ``body[key]``), or a 422 if it is not an object."""
    if not isinstance(body, dict):
        raise Unprocessable({key or "base": ["can't be blank" if body is None else "is invalid"]})
    if key is None:
        return body
    inner = body.get(key)
    if not isinstance(inner, dict):
        raise Unprocessable({key: ["can't be blank" if inner is None else "must be a hash"]})
    return inner
