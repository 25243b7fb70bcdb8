"""The control slip's hash chain: a stable canonical form, and every kind of tampering detected."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from service.domain import audit

ICT = timezone(timedelta(hours=7))


def entry(seq: int, note: str = "Nộp hồ sơ trực tiếp tại Bộ phận Một cửa") -> dict[str, Any]:
    return {"dossier": "000.00.61.H49-250106-0001", "seq": seq, "at": datetime(2025, 1, 6, 8, seq, tzinfo=ICT),
            "action": "submit", "actor": "tiepnhan", "actor_role": "receiver", "from_status": None,
            "to_status": "submitted", "note": note,
            "data": {"postal_handover": {"receipt_number": "BBGN-1", "posted_at": datetime(2025, 1, 4, 15, 0,
                                                                                             tzinfo=ICT)}},
            "due_at": None}


def test_a_stored_chain_keeps_verifying_across_versions() -> None:
    # Computed when the chain was introduced; rows already in databases carry hashes of this form.
    first = {**entry(1), "at": datetime(2025, 1, 6, 8, 0, tzinfo=ICT)}
    assert audit.entry_hash(audit.GENESIS, first) == \
        "4a8e937ac9bf08c3b6052b8c26019553b14f56e29f1bcc5616a34dd2850e574d"


def _reference(value: Any) -> Any:
    """The canonical form as first written: instants to UTC ISO with microseconds, recursively."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, Mapping):
        return {str(k): _reference(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_reference(v) for v in value]
    return value


# Hypothesis takes naive bounds and attaches the drawn zone itself.
instants = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31),  # noqa: DTZ001
                        timezones=st.sampled_from([UTC, ICT, timezone(timedelta(hours=-5))]))
leaves = st.none() | st.booleans() | st.integers() | st.text() | instants
contents = st.recursive(leaves, lambda children: st.lists(children, max_size=4)
                        | st.dictionaries(st.text(max_size=8), children, max_size=4), max_leaves=12)


@given(st.dictionaries(st.text(max_size=8), contents, max_size=6))
def test_the_canonical_form_is_the_reference_one(content: dict[str, Any]) -> None:
    expected = json.dumps(_reference(content), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    assert audit.canonical(content) == expected
    assert audit.entry_hash("a" * 64, content) == hashlib.sha256(f"{'a' * 64}|{expected}".encode()).hexdigest()


def test_the_same_instant_in_another_offset_hashes_the_same() -> None:
    local = entry(1)
    utc = {**local, "at": local["at"].astimezone(UTC)}
    assert audit.entry_hash(audit.GENESIS, local) == audit.entry_hash(audit.GENESIS, utc)


def _chain(entries: list[dict[str, Any]]) -> list[tuple[dict[str, Any], str, str]]:
    out, prev = [], audit.GENESIS
    for e in entries:
        digest = audit.entry_hash(prev, e)
        out.append((e, prev, digest))
        prev = digest
    return out


def test_any_change_removal_or_reordering_breaks_the_chain() -> None:
    rows = _chain([entry(i) for i in range(1, 5)])
    assert audit.verify_chain(rows)
    changed = list(rows)
    changed[1] = ({**rows[1][0], "note": "Đã sửa"}, rows[1][1], rows[1][2])
    assert not audit.verify_chain(changed)
    assert not audit.verify_chain(rows[:1] + rows[2:])
    assert not audit.verify_chain([rows[1], rows[0], *rows[2:]])
    assert not audit.verify_chain(rows[1:])


slip_texts = st.text() | st.sampled_from(["submit", "Nộp hồ sơ \"trực tiếp\"\n\t\\", "\u2028\x00\x7f"])


@given(seq=st.integers(min_value=0) | st.booleans() | st.floats(allow_nan=True),
       at=instants | st.text(max_size=4), due_at=st.none() | instants | st.integers(),
       action=slip_texts | st.integers(), actor=slip_texts, actor_role=slip_texts | st.none(),
       from_status=st.none() | slip_texts | st.integers(), to_status=slip_texts, note=st.none() | slip_texts,
       data=st.dictionaries(st.text(max_size=8), contents, max_size=4) | st.none() | st.lists(leaves, max_size=2),
       dossier=slip_texts)
def test_a_slip_entry_hashes_as_its_dict(seq: Any, at: Any, due_at: Any, action: Any, actor: Any, actor_role: Any,
                                         from_status: Any, to_status: Any, note: Any, data: Any,
                                         dossier: Any) -> None:
    fields = {"dossier": dossier, "seq": seq, "at": at, "action": action, "actor": actor, "actor_role": actor_role,
              "from_status": from_status, "to_status": to_status, "note": note, "data": data, "due_at": due_at}
    assert audit.slip_entry_hash("b" * 64, **fields) == audit.entry_hash("b" * 64, fields)


def test_a_slip_entry_of_enum_texts_hashes_as_its_dict() -> None:
    from service.domain.lifecycle import Action, Status

    fields = {**entry(2), "action": Action.RECEIVE, "from_status": Status.SUBMITTED, "to_status": Status.RECEIVED,
              "data": {}, "due_at": datetime(2025, 1, 20, 17, 0, tzinfo=ICT)}
    assert audit.slip_entry_hash(audit.GENESIS, **fields) == audit.entry_hash(audit.GENESIS, fields)
