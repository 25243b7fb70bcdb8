"""Event ids: every writer derives the same id for the same control-slip row (the RFC 4122 uuid5 of its name)."""

import uuid
from datetime import UTC, datetime

import pytest

from service.events import outbox

NAMESPACE = uuid.UUID("6f1b7c52-3f0e-4a8e-9d51-6d6f74637561")


@pytest.mark.parametrize("name", ["", "000.00.61.H49-250106-0001/1", "Hồ sơ đặc biệt/12", "x" * 500,
                                  "H49-250106-0001/due_soon@2025-01-09T17:00:00+07:00"])
def test_event_id_is_the_name_based_uuid(name: str) -> None:
    assert outbox.event_id(name) == str(uuid.uuid5(NAMESPACE, name))


def test_the_event_of_a_slip_row_is_named_by_its_dossier_and_seq() -> None:
    values = outbox.slip_event_values(dossier_id=1, code="A-1", agency_code="X", procedure_code="P", seq=3,
                                      action="receive", at=datetime(2025, 1, 6, tzinfo=UTC), from_status="submitted",
                                      to_status="received", due_at=None, timeliness=None)
    assert values["event_id"] == str(uuid.uuid5(NAMESPACE, "A-1/3"))
