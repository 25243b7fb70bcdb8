"""``/dossiers/{code}/notifications``: the notices sent to the applicant (Decree 61/2018 Arts. 17–20)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from service.deps import CurrentUser, SessionDep
from service.events import notices
from service.schemas.common import Problem
from service.schemas.events import NotificationOut

router = APIRouter(prefix="/dossiers", tags=["dossiers"])
ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": Problem} for code in (401, 404)}


@router.get("/{code}/notifications", response_model=list[NotificationOut], responses=ERRORS,
            summary="List the notices sent to the applicant")
def list_notifications(code: str, user: CurrentUser, session: SessionDep) -> list[NotificationOut]:
    """The notices recorded for the applicant, oldest first, in Vietnamese, per channel (`sms`, `email`,
    `portal`); `sent_at` is set once a sender (SMTP, the SMS gateway) accepted one."""
    return [NotificationOut.model_validate(n, from_attributes=True) for n in notices.recorded(session, user, code)]
