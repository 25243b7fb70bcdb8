"""Public tracking of a dossier by its code and tracking secret: no token, no personal data, rate limited.

Decree 61/2018/NĐ-CP Art. 17(3): the dossier code printed on the receipt (Mẫu 01) is what the applicant
uses to look up the dossier's status on the portals. The tracking secret (shown once, in the 201 answer to the
submission) keeps the status of someone else's dossier out of reach of anyone who guesses a code.
"""

from typing import Annotated

from fastapi import APIRouter, Query

from service.context import AppContext
from service.deps import ClientAddress, ContextDep, SessionDep
from service.dossiers import queries
from service.errors import RateLimited
from service.ratelimit import RateLimiter
from service.schemas.common import Problem
from service.schemas.dossiers import PublicDossier

router = APIRouter(prefix="/public", tags=["public"])


def enforce_public_rate_limit(address: str, context: AppContext) -> None:
    """Count one public lookup for the client's ``address`` (``X-Forwarded-For`` counts only from
    ``MOTCUA_TRUSTED_PROXIES``), in a sliding window; 429 past ``public_rate_limit`` in the window. The API
    lookup and the ``/tra-cuu`` page share the count."""
    settings = context.settings
    window = settings.public_rate_window_seconds
    if RateLimiter(context.db).hit(f"public:{address}", window_seconds=window) > settings.public_rate_limit:
        raise RateLimited(
            "Tra cứu quá nhiều lần. Vui lòng thử lại sau.", headers={"Retry-After": str(window)}
        )


@router.get("/dossiers/{code}", responses={404: {"model": Problem}, 429: {"model": Problem}})
def track_dossier(
    code: str,
    secret: Annotated[str, Query(min_length=1, max_length=200)],
    address: ClientAddress,
    context: ContextDep,
    session: SessionDep,
) -> PublicDossier:
    """The status of a dossier for whoever holds its code and tracking secret. An unknown code and a wrong
    secret get the same 404; requests are limited per client address (a sliding window in real time, shared by
    all workers; ``X-Forwarded-For`` counts only from ``MOTCUA_TRUSTED_PROXIES``)."""
    enforce_public_rate_limit(address, context)
    return queries.public_lookup(session, code, secret)
