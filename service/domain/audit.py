"""The control slip (Phiếu kiểm soát quá trình giải quyết hồ sơ, Circular 01/2018/TT-VPCP Mẫu 05), hash-chained.

Every transition appends one entry; each entry's hash covers its content and the previous entry's hash, so a
changed, removed or reordered row breaks every later hash. Hashes are SHA-256, lowercase hex.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from service.domain.legal_time import utc_text

GENESIS = "0" * 64


def _instant(value: Any) -> str:
    if isinstance(value, datetime):
        return utc_text(value)
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


_TEXT = json.encoder.encode_basestring
"""A string as JSON text, as the canonical encoder writes it (its C version when there is one)."""


def slip_entry_hash(prev_hash: str, *, dossier: str, seq: int, at: datetime, action: str, actor: str,
                    actor_role: str, from_status: str | None, to_status: str, note: str | None,
                    data: Mapping[str, Any], due_at: datetime | None) -> str:
    """``entry_hash`` of a control-slip entry (the keys of :func:`service.dossiers.slip.slip_content`), its
    canonical text written out key by key in sorted order: the same bytes as :func:`canonical` of the entry's
    dict (``tests/domain/test_audit.py`` compares them), for less — every writer hashes each row it writes,
    millions for a simulated province year, and the general encoder sorts the keys and calls back into Python
    for each instant of every row. A value of another type than these (which the text here cannot write: a
    ``TypeError``) goes through :func:`canonical`."""
    try:
        if type(seq) is not int:  # a bool or a float: the general encoder writes them its own way
            raise TypeError("seq")
        entry = (f'{{"action":{_TEXT(action)},"actor":{_TEXT(actor)},"actor_role":{_TEXT(actor_role)},'
                 f'"at":"{_instant(at)}","data":{"{}" if data == {} else canonical(data)},'
                 f'"dossier":{_TEXT(dossier)},"due_at":{"null" if due_at is None else _quoted_instant(due_at)},'
                 f'"from_status":{"null" if from_status is None else _TEXT(from_status)},'
                 f'"note":{"null" if note is None else _TEXT(note)},"seq":{seq},"to_status":{_TEXT(to_status)}}}')
    except TypeError:
        entry = canonical({"dossier": dossier, "seq": seq, "at": at, "action": action, "actor": actor,
                           "actor_role": actor_role, "from_status": from_status, "to_status": to_status,
                           "note": note, "data": data, "due_at": due_at})
    return hashlib.sha256(f"{prev_hash}|{entry}".encode()).hexdigest()


def _quoted_instant(value: datetime) -> str:
    return f'"{_instant(value)}"'


def verify_chain(entries: Iterable[tuple[Mapping[str, Any], str, str]]) -> bool:
    """``entries`` are (content, prev_hash, hash) in sequence order; true when every link holds."""
    expected_prev = GENESIS
    for content, prev_hash, stored in entries:
        if prev_hash != expected_prev or entry_hash(prev_hash, content) != stored:
            return False
        expected_prev = stored
    return True
