"""Sending the notices to applicants: e-mail through SMTP (``MOTCUA_SMTP_URL``) and SMS through a gateway's
webhook (``MOTCUA_SMS_GATEWAY_URL``). A channel without a sender is recorded only (the portal always is).

Notices are sent once a sender is configured, from then on: the first send cycle remembers the newest notice
already recorded (worker position ``notices``), so configuring SMTP on a database holding a simulated year does
not mail its history. A notice is leased like a webhook delivery, tried up to :data:`MAX_TRIES` times with a
doubling pause, and its ``sent_at`` / ``send_error`` show what happened.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from urllib.parse import parse_qs, unquote, urlsplit

import httpx
from sqlalchemy import func, or_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from service.dossiers.visibility import load_visible
from service.events.delivery import SIGNATURE_HEADER
from service.models import Notification, User, WorkerPosition
from service.settings import Settings

MAX_TRIES = 5
LEASE = timedelta(seconds=60)
RETRY_BASE = timedelta(seconds=30)


@dataclass(frozen=True)
class Outgoing:
    id: int
    attempt: int
    channel: str
    recipient: str
    subject: str
    body: str


def channels(settings: Settings) -> frozenset[str]:
    """The channels that have a sender."""
    return frozenset(c for c, url in (("email", settings.smtp_url), ("sms", settings.sms_gateway_url)) if url)


def start(session: Session, now: datetime) -> None:
    """The first time a worker with a sender starts, remember the newest notice: older ones are not sent."""
    if session.get(WorkerPosition, "notices") is None:
        newest = session.exec(select(func.max(Notification.id))).one() or 0
        insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        session.execute(insert(WorkerPosition).values(name="notices", last_id=newest, updated_at=now)
                        .on_conflict_do_nothing())


def claim(session: Session, now: datetime, configured: frozenset[str], *, limit: int = 20) -> list[Outgoing]:
    if not configured:
        return []
    position = session.get(WorkerPosition, "notices")
    if position is None:  # no worker with a sender has started yet
        return []
    query = (select(Notification)
             .where(col(Notification.id) > position.last_id, col(Notification.sent_at).is_(None),
                    col(Notification.channel).in_(configured), func.coalesce(Notification.send_attempts, 0) < MAX_TRIES,
                    or_(col(Notification.send_leased_until).is_(None), col(Notification.send_leased_until) < now))
             .order_by(col(Notification.id)).limit(limit))
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    out = []
    for notice in session.exec(query):
        notice.send_attempts = (notice.send_attempts or 0) + 1
        notice.send_leased_until = now + LEASE
        session.add(notice)
        out.append(Outgoing(notice.id, notice.send_attempts, notice.channel, notice.recipient,  # type: ignore[arg-type]
                            notice.subject, notice.body))
    return out


def record(session: Session, item: Outgoing, error: str | None, now: datetime) -> None:
    notice = session.get(Notification, item.id, with_for_update=True)
    if notice is None or notice.send_attempts != item.attempt or notice.sent_at is not None:
        return
    if error is None:
        notice.sent_at, notice.send_error, notice.send_leased_until = now, None, None
    else:
        notice.send_error = error[:500]
        notice.send_leased_until = now + RETRY_BASE * 2 ** (item.attempt - 1)
    session.add(notice)


def send_email(smtp_url: str, sender: str, item: Outgoing, *, timeout: float = 10) -> None:
    """One message over SMTP: ``smtp://[user:password@]host:port[?starttls=true]`` or ``smtps://…``."""
    parts = urlsplit(smtp_url)
    options = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, item.recipient, item.subject
    message["Message-ID"] = make_msgid(domain="motcua.local")
    message.set_content(item.body)
    host = parts.hostname or "localhost"
    if parts.scheme == "smtps":
        client: smtplib.SMTP = smtplib.SMTP_SSL(host, parts.port or 465, timeout=timeout)
    else:
        client = smtplib.SMTP(host, parts.port or 25, timeout=timeout)
    with client:
        if options.get("starttls", "").lower() in ("1", "true", "yes"):
            client.starttls()
        if parts.username:
            client.login(unquote(parts.username), unquote(parts.password or ""))
        client.send_message(message)


def send_sms(client: httpx.Client, url: str, secret: str, item: Outgoing, *, timeout: float = 10) -> None:
    """POST ``{"to","text","reference"}`` to the gateway, signed like our webhooks; a non-2xx answer fails."""
    body = json.dumps({"to": item.recipient, "text": f"{item.subject}. {item.body}",
                       "reference": f"notification-{item.id}"}, ensure_ascii=False).encode()
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    response = client.post(url, content=body, timeout=timeout, follow_redirects=False,
                           headers={"Content-Type": "application/json", SIGNATURE_HEADER: signature})
    if not 200 <= response.status_code < 300:
        raise RuntimeError(f"SMS gateway answered HTTP {response.status_code}")


def send(settings: Settings, client: httpx.Client, item: Outgoing) -> str | None:
    """Send one notice through its channel's sender; the error text, or ``None`` when accepted."""
    try:
        if item.channel == "email":
            send_email(settings.smtp_url, settings.smtp_from, item)
        else:
            send_sms(client, settings.sms_gateway_url, settings.sms_gateway_secret, item)
    except (OSError, smtplib.SMTPException, httpx.HTTPError, RuntimeError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def recorded(session: Session, user: User, code: str) -> list[Notification]:
    """The notices of a dossier the caller may see (the applicant, the agency's staff, an admin), oldest first."""
    dossier = load_visible(session, user, code)
    return list(session.exec(select(Notification).where(Notification.dossier_id == dossier.id)
                             .order_by(col(Notification.at), col(Notification.id))))
