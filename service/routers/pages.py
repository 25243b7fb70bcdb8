"""The web pages (contract Version 2, "Web pages"): server-rendered Vietnamese HTML outside ``/api/v1``.

``/`` and ``/tra-cuu`` are public; ``/mot-cua`` (the desk's worklist) and ``/thong-ke`` (statistics) need a staff
sign-in at ``/dang-nhap``, kept in an HttpOnly, SameSite=Strict cookie (see :mod:`service.web.session`). Every
form that changes state carries a CSRF token. Templates escape every value (Jinja2 autoescape).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from service.deps import ClientAddress, ContextDep, SessionDep, get_current_user_from_token
from service.domain import statistics as stats_domain
from service.domain.errors import DomainError
from service.domain.legal_time import to_legal_time as to_local
from service.domain.legal_time import utc_now
from service.dossiers import queries
from service.errors import AppError, RateLimited
from service.models import User
from service.operations import desk, signin, tracking
from service.operations import statistics as stats_ops
from service.problems import status_of
from service.routers.public import enforce_public_rate_limit
from service.web import charts
from service.web.session import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    new_login_csrf,
    session_csrf,
    tokens_match,
)

TEMPLATES = Jinja2Templates(directory=Path(__file__).resolve().parent.parent / "web" / "templates")
router = APIRouter(include_in_schema=False)
STAFF_ROLES = frozenset({"receiver", "processor", "approver", "admin"})
SAFE_NEXT = ("/mot-cua", "/thong-ke")
ROLE_LABEL = {"receiver": "Cán bộ một cửa", "processor": "Chuyên viên xử lý", "approver": "Lãnh đạo",
              "admin": "Quản trị hệ thống", "citizen": "Công dân"}


def _local(value: Any, fmt: str = "%H:%M, %d/%m/%Y") -> str:
    return to_local(value).strftime(fmt) if value is not None else "—"


TEMPLATES.env.filters["local"] = _local


def _render(request: Request, template: str, status_code: int = 200, **values: Any) -> HTMLResponse:
    values.setdefault("user", None)
    values.setdefault("csrf", None)
    values["request_id"] = getattr(request.state, "request_id", "")
    values["role_label"] = ROLE_LABEL
    response = TEMPLATES.TemplateResponse(request, template, values, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'")
    return response


def _session_user(request: Request, context: ContextDep, session: SessionDep) -> User | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    try:
        return get_current_user_from_token(context, session, token)
    except AppError:
        return None


def _sign_in_redirect(next_path: str) -> RedirectResponse:
    return RedirectResponse(f"/dang-nhap?next={next_path}", status_code=303)


def _staff(request: Request, context: ContextDep, session: SessionDep) -> tuple[User | None, str | None]:
    user = _session_user(request, context, session)
    if user is None or user.role not in STAFF_ROLES:
        return None, None
    return user, session_csrf(context.settings.secret_key, request.cookies[SESSION_COOKIE])


# ---------------------------------------------------------------- public pages


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> HTMLResponse:
    return _render(request, "index.html")


@router.get("/tra-cuu", response_class=HTMLResponse)
def lookup(request: Request, context: ContextDep, session: SessionDep, address: ClientAddress,
           code: Annotated[str, Query(max_length=64)] = "",
           secret: Annotated[str, Query(max_length=200)] = "") -> HTMLResponse:
    """The public lookup. With both ``code`` and ``secret``: the status, the steps and the due date, or the same
    "not found" page for an unknown code and a wrong secret; it counts against the API lookup's rate limit."""
    code, secret = code.strip(), secret.strip()
    if not (code and secret):
        return _render(request, "lookup.html", code=code, dossier=None, steps=[], not_found=False)
    try:
        enforce_public_rate_limit(address, context)
    except RateLimited as exc:
        return _render(request, "lookup.html", 429, code="", dossier=None, steps=[], not_found=False,
                       error=exc.detail)
    try:
        dossier = queries.public_lookup(session, code, secret)
    except AppError:
        return _render(request, "lookup.html", 404, code="", dossier=None, steps=[], not_found=True)
    return _render(request, "lookup.html", code=code, dossier=dossier,
                   steps=tracking.public_steps(session, dossier.code), not_found=False)


# ---------------------------------------------------------------- sign-in


def _sign_in_page(request: Request, next_path: str, status_code: int = 200, error: str | None = None) -> Response:
    token = new_login_csrf()
    response = _render(request, "sign_in.html", status_code, next_path=next_path, login_csrf=token, error=error)
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", path="/dang-nhap",
                        secure=request.url.scheme == "https")
    return response


def _safe_next(value: str) -> str:
    return value if value in SAFE_NEXT else "/mot-cua"


@router.get("/dang-nhap", response_class=HTMLResponse)
def sign_in_form(request: Request, next: Annotated[str, Query(max_length=32)] = "/mot-cua") -> Response:
    return _sign_in_page(request, _safe_next(next))


@router.post("/dang-nhap", response_class=HTMLResponse)
def sign_in(request: Request, context: ContextDep, address: ClientAddress,
            username: Annotated[str, Form(max_length=64)] = "", password: Annotated[str, Form(max_length=256)] = "",
            csrf_token: Annotated[str, Form(max_length=128)] = "",
            next: Annotated[str, Form(max_length=32)] = "/mot-cua") -> Response:
    """Staff sign-in: the same check and failure limit as ``POST /api/v1/auth/token``; on success an HttpOnly,
    SameSite=Strict session cookie holding an access token of the same lifetime."""
    next_path = _safe_next(next)
    if not tokens_match(request.cookies.get(LOGIN_CSRF_COOKIE), csrf_token):
        return _sign_in_page(request, next_path, 403, "Phiên biểu mẫu đã hết hạn. Vui lòng đăng nhập lại.")
    try:
        user = signin.sign_in(context.db, context.settings, address, username.strip(), password)
    except AppError as exc:
        return _sign_in_page(request, next_path, status_of(exc), exc.detail)
    if user.role not in STAFF_ROLES:
        return _sign_in_page(request, next_path, 403, "Trang này dành cho cán bộ. Công dân tra cứu hồ sơ tại "
                                                      "trang Tra cứu.")
    token = context.tokens.issue(user.username, now=utc_now(), role=user.role)
    response = RedirectResponse(next_path, status_code=303)
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="strict", path="/",
                        max_age=int(context.tokens.ttl.total_seconds()), secure=request.url.scheme == "https")
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/dang-nhap")
    return response


@router.post("/dang-xuat")
def sign_out(request: Request, context: ContextDep,
             csrf_token: Annotated[str, Form(max_length=128)] = "") -> Response:
    session_token = request.cookies.get(SESSION_COOKIE)
    if session_token and not tokens_match(session_csrf(context.settings.secret_key, session_token), csrf_token):
        return Response("CSRF", status_code=403)
    response = RedirectResponse("/dang-nhap", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# ---------------------------------------------------------------- the desk


def _worklist_page(request: Request, context: ContextDep, session: SessionDep, user: User, csrf: str,
                   bucket: str | None, status_code: int = 200, error: str | None = None,
                   done: str | None = None) -> HTMLResponse:
    now = context.clock.now(session)
    work = desk.worklist(session, user=user, now=now, due_soon_hours=context.settings.due_soon_working_hours,
                         bucket=bucket)
    return _render(request, "worklist.html", status_code, user=user, csrf=csrf, work=work, bucket=bucket,
                   buckets=desk.BUCKETS, bucket_label=desk.BUCKET_LABEL, action_label=desk.DESK_ACTIONS,
                   now=now, error=error, done=done)


@router.get("/mot-cua", response_class=HTMLResponse)
def worklist(request: Request, context: ContextDep, session: SessionDep,
             bucket: Annotated[str | None, Query(max_length=32)] = None,
             done: Annotated[str | None, Query(max_length=64)] = None) -> Response:
    user, csrf = _staff(request, context, session)
    if user is None or csrf is None:
        return _sign_in_redirect("/mot-cua")
    return _worklist_page(request, context, session, user, csrf, bucket if bucket in desk.BUCKETS else None,
                          done=done)


@router.post("/mot-cua/ho-so/{code}", response_class=HTMLResponse)
def desk_action(request: Request, code: str, context: ContextDep, session: SessionDep,
                action: Annotated[str, Form(max_length=32)] = "", version: Annotated[int | None, Form()] = None,
                assignee: Annotated[str | None, Form(max_length=64)] = None,
                csrf_token: Annotated[str, Form(max_length=128)] = "") -> Response:
    """One desk action (receive, assign, approve, return the result) from the worklist, then back to it."""
    user, csrf = _staff(request, context, session)
    if user is None or csrf is None:
        return _sign_in_redirect("/mot-cua")
    if not tokens_match(csrf, csrf_token):
        return _worklist_page(request, context, session, user, csrf, None, 403,
                              "Biểu mẫu không hợp lệ hoặc đã hết hạn. Vui lòng thử lại.")
    try:
        desk.perform(session, user=user, code=code, action_name=action, version=version, assignee=assignee or None,
                     now=context.clock.now(session), effects=context.effects)
    except DomainError as exc:
        session.rollback()
        status = status_of(exc)
        return _worklist_page(request, context, session, user, csrf, None, status, exc.detail)
    return RedirectResponse(f"/mot-cua?done={code}", status_code=303)


# ---------------------------------------------------------------- statistics


@router.get("/thong-ke", response_class=HTMLResponse)
def statistics(request: Request, context: ContextDep, session: SessionDep,
               year: Annotated[int | None, Query(alias="nam", ge=2000, le=2100)] = None) -> Response:
    """On-time and online rates by month of one year (as SVG bar charts and tables), the Decision 766 index
    groups of that year, for the caller's scope (an admin: all agencies; staff: their own), and the agencies'
    ranking by that index with the change since the period before (``GET /stats/ranking``: an admin sees every
    agency, staff their own row with its rank among all)."""
    user, csrf = _staff(request, context, session)
    if user is None or csrf is None:
        return _sign_in_redirect("/thong-ke")
    now = context.clock.now(session)
    today = to_local(now).date()
    year = year or today.year
    first, last = date(year, 1, 1), min(date(year, 12, 31), today) if year == today.year else date(year, 12, 31)
    if first > last:
        first = last = today
    report = stats_ops.processing_report(session, user=user, first=first, last=last, agency_code=None,
                                         group_by="month", now=now)
    _, scope, index = stats_ops.service_index(session, user=user, first=first, last=last, agency_code=None,
                                              now=now)
    period = stats_domain.classify(first, last)
    before = stats_domain.previous_period(period)
    ranking = stats_ops.ranking(session, user=user, first=first, last=last, previous=(before.first, before.last),
                                parent_code=None, now=now)
    months = [(f"{row.key[5:7]}/{row.key[:4]}", row.counts) for row in report.rows]
    on_time = charts.percent_bar_chart(
        "Tỷ lệ hồ sơ giải quyết đúng hạn theo tháng",
        "Phần trăm hồ sơ đã giải quyết trước hạn hoặc đúng hạn, mỗi cột một tháng.",
        [(label, counts.on_time_rate) for label, counts in months])
    online = charts.percent_bar_chart(
        "Tỷ lệ hồ sơ nộp trực tuyến theo tháng",
        "Phần trăm hồ sơ tiếp nhận qua dịch vụ công trực tuyến, mỗi cột một tháng.",
        [(label, counts.online_rate) for label, counts in months])
    return _render(request, "statistics.html", user=user, csrf=csrf, year=year, first=first, last=last,
                   months=months, total=report.total, charts=[on_time, online], index=index, scope=scope,
                   as_of=report.window.as_of, years=range(today.year, today.year - 5, -1), ranking=ranking)
