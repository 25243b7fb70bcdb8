"""The applicant's satisfaction rating of a returned dossier (Decision 766/QĐ-TTg indicator 5.4).

Only the applicant citizen rates, only once the result has been returned, and only once; the rating is read by
the service index as of its ``at`` instant, so a rating given after a period never changes that period's
index.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from service.domain.roles import Role
from service.errors import Conflict, ForbiddenRole, NotFound
from service.models import Dossier, Rating, User
from service.schemas.dossiers import RatingIn, RatingOut
from service.validation import parse_body


def check_may_rate(user: User, *, applicant_user_id: int | None, status: str, rated: bool) -> None:
    """Only the applicant citizen (403), only once the result is returned (409), only once (409)."""
    if user.role != Role.CITIZEN or applicant_user_id != user.id:
        raise ForbiddenRole("Chỉ người nộp hồ sơ được đánh giá mức độ hài lòng.")
    if status != "returned":
        raise Conflict("Chỉ đánh giá được sau khi đã nhận kết quả giải quyết hồ sơ.",
                       code="DOSSIER_NOT_RETURNED")
    if rated:
        raise Conflict("Hồ sơ này đã được đánh giá; mỗi hồ sơ chỉ được đánh giá một lần.",
                       code="ALREADY_RATED")


def rate(session: Session, *, user: User, dossier: Dossier, payload: dict[str, Any] | None,
         now: datetime) -> RatingOut:
    """Record the applicant's rating on ``dossier`` (visible to ``user``, locked for update). Checks in the
    contract's order: role 403, state 409, body 422 (visibility 404 came first, with the load)."""
    check_may_rate(user, applicant_user_id=dossier.applicant_user_id, status=dossier.status,
                   rated=session.get(Rating, dossier.id) is not None)
    data = parse_body(RatingIn, payload or {})
    rating = Rating(dossier_id=dossier.id,  # type: ignore[arg-type]
                    satisfied=data.satisfied, comment=data.comment, at=now)
    session.add(rating)
    session.flush()
    return out(dossier, rating)


def read(session: Session, *, dossier: Dossier) -> RatingOut:
    """The rating of a dossier (404 when there is none)."""
    rating = session.get(Rating, dossier.id)
    if rating is None:
        raise NotFound(f"Hồ sơ {dossier.code} chưa được đánh giá.", code="RATING_NOT_FOUND")
    return out(dossier, rating)


def out(dossier: Dossier, rating: Rating) -> RatingOut:
    return RatingOut(dossier_code=dossier.code, satisfied=rating.satisfied, comment=rating.comment,
                     at=rating.at)
