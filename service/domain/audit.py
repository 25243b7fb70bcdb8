"""The control slip (Phiếu kiểm soát quá trình giải quyết hồ sơ, Circular 01/2018/TT-VPCP Mẫu 05), hash-chained.

Every transition appends one entry; each entry's hash covers its content and the previous entry's hash, so a
changed, removed or reordered row breaks every later hash. Hashes are SHA-256, lowercase hex.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64


def _instant(value: Any) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat("T", "microseconds")  # positional: parsing timespec= cost more
    raise TypeError(f"{type(value).__name__} is not part of a control-slip entry")


_CANONICAL = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_instant)
"""One encoder for every entry (``json.dumps`` with these options builds a new one per call)."""
_ONE_SHOT = json.encoder.c_make_encoder(  # type: ignore[attr-defined]
    None, _instant, json.encoder.encode_basestring, None, ":", ",", True, False, True) \
    if json.encoder.c_make_encoder is not None else None  # type: ignore[attr-defined]
"""The C encoder ``_CANONICAL.encode`` makes afresh for every call, made once (the same options; no check for
circular references, which an entry of plain values cannot have): the simulator and the bulk generator hash
millions of rows, and building it was about a third of the cost of an entry."""


def canonical(entry: Mapping[str, Any]) -> str:
    """The entry as canonical JSON: keys sorted, no spaces, UTF-8 text as is, instants as UTC ISO 8601 with
    microseconds (``2025-01-06T01:00:00.000000+00:00``) whatever their offset."""
    if _ONE_SHOT is None:
        return _CANONICAL.encode(entry)
    return "".join(_ONE_SHOT(entry, 0))


def entry_hash(prev_hash: str, entry: Mapping[str, Any]) -> str:
    return hashlib.sha256(f"{prev_hash}|{canonical(entry)}".encode()).hexdigest()


def verify_chain(entries: Iterable[tuple[Mapping[str, Any], str, str]]) -> bool:
    """``entries`` are (content, prev_hash, hash) in sequence order; true when every link holds."""
    expected_prev = GENESIS
    for content, prev_hash, stored in entries:
        if prev_hash != expected_prev or entry_hash(prev_hash, content) != stored:
            return False
        expected_prev = stored
    return True
