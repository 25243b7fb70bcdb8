"""The simulated PKI, persisted: root CA, agency-level issuing CA, personal certificates of approvers, one
certificate per one-stop desk (Decree 23/2025/NĐ-CP hierarchy; Decree 45/2020/NĐ-CP Art. 14(3): a result
bears the agency's digital signature; Circular 01/2018/TT-VPCP Art. 10: one-stop forms are digitally
signed).

* Created on first need, inside the caller's transaction: the first approval (or the first request for the
  root, the CRL or a receipt) creates the root and the issuing CA. Several API processes may race for it: a
  partial unique index allows one unrevoked certificate per (kind, holder), the loser's insert fails inside
  a savepoint and it reloads the winner's row.
* Private keys are stored as encrypted PKCS#8 PEM, with ``settings.ca_key_passphrase``.
* Loaded certificates and decrypted keys are cached per process by (serial, passphrase): a serial's
  certificate and key never change; whether it is revoked is always read from the database.
* Revocation (admin): ``revoked_at`` is the legal now. A revoked certificate never signs again: the next
  signature of that officer (or desk) issues a new certificate automatically. Earlier signatures stay valid:
  a revocation counts from the first whole second after it was recorded (the PDF signing time ``/M`` has
  whole-second precision, and since a revoked certificate never signs, any signature the system made in that
  same second came before the revocation), so that a signature and a revocation at the same frozen simulated
  instant do not void the signature. The CRL publishes the same effective time.

Functions here never commit.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from cryptography import x509
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from service.clock import LegalClock
from service.db import Database
from service.domain.legal_time import utc_now
from service.errors import Conflict, NotFound, ServiceUnavailable
from service.models import Agency, PkiCertificate, User
from service.pagination import keyset_page
from service.settings import Settings
from service.signing import pades
from service.signing import pki as x

log = logging.getLogger("motcua.pki")

ROOT, ISSUING, APPROVER, DESK = "root", "issuing", "approver", "desk"
KINDS = (ROOT, ISSUING, APPROVER, DESK)
CA_KINDS = frozenset({ROOT, ISSUING})
CA_HOLDER = "*"
ISSUING_CA_NAME = "Một Cửa Issuing CA (cấp cơ quan)"
DESK_PREFIX = "Bộ phận Một cửa"
MAX_CN = 64  # X.520 ub-common-name


class SigningUnavailable(ServiceUnavailable):
    """Signing cannot proceed (keys cannot be decrypted, signing failed): the request changes nothing."""

    code = "SIGNING_FAILED"


# ---------------------------------------------------------------- settings


def crl_url(settings: Settings) -> str:
    return f"{settings.public_base_url.rstrip('/')}/api/v1/pki/crl.der"


# ---------------------------------------------------------------- per-process cache of loaded certificates


class _Cache:
    """Loaded certificates with their decrypted keys and chains, by (serial, passphrase): a key is only served
    to whoever could decrypt it (bounded, thread-safe)."""

    def __init__(self, size: int = 512) -> None:
        self._items: OrderedDict[tuple[str, str], x.IssuedCertificate] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str]) -> x.IssuedCertificate | None:
        with self._lock:
            item = self._items.get(key)
            if item is not None:
                self._items.move_to_end(key)
            return item

    def put(self, key: tuple[str, str], item: x.IssuedCertificate) -> None:
        with self._lock:
            self._items[key] = item
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


_loaded = _Cache()


def _load(session: Session, settings: Settings, row: PkiCertificate) -> x.IssuedCertificate:
    """The certificate of ``row`` with its decrypted key and its chain of issuers (root last)."""
    cached = _loaded.get((row.serial, settings.ca_key_passphrase))
    if cached is not None:
        return cached
    chain: tuple[x509.Certificate, ...] = ()
    if row.issuer_serial:
        query = select(PkiCertificate).where(PkiCertificate.serial == row.issuer_serial)
        issuer = session.exec(query).first()
        if issuer is None:
            raise SigningUnavailable(f"Thiếu chứng thư số của tổ chức cấp ({row.issuer_serial}).")
        parent = _load(session, settings, issuer)
        chain = (parent.certificate, *parent.chain)
    if row.encrypted_key_pem is None:
        raise SigningUnavailable(f"Chứng thư số {row.serial} không có khóa bí mật.")
    try:
        key = x.load_private_key(row.encrypted_key_pem, settings.ca_key_passphrase)
    except ValueError as exc:
        raise SigningUnavailable("Không giải mã được khóa bí mật của chứng thư số (sai khóa bảo vệ?).",
                                 code="SIGNING_KEY_UNAVAILABLE") from exc
    loaded = x.IssuedCertificate(certificate=x.certificate_from_pem(row.certificate_pem), private_key=key,
                                 chain=chain)
    _loaded.put((row.serial, settings.ca_key_passphrase), loaded)
    return loaded


# ---------------------------------------------------------------- lookups


def active_row(session: Session, kind: str, holder: str, *,
               for_update: bool = False) -> PkiCertificate | None:
    """The unrevoked certificate of ``holder`` (``"*"`` for the CAs), locked when ``for_update``: a
    revocation running at the same time then waits for this transaction, or this one sees it and issues a
    new certificate."""
    query = select(PkiCertificate).where(PkiCertificate.kind == kind, PkiCertificate.holder == holder,
                                         col(PkiCertificate.revoked_at).is_(None))
    if for_update:
        query = query.with_for_update()
    return session.exec(query).first()


def by_serial(session: Session, serial: str) -> PkiCertificate:
    try:
        normalized = x.serial_hex(x.serial_from_hex(serial))
    except ValueError:
        normalized = None
    row = session.exec(select(PkiCertificate).where(PkiCertificate.serial == normalized)).first() \
        if normalized else None
    if row is None:
        raise NotFound(f"Không tìm thấy chứng thư số có số hiệu {serial}.", code="CERTIFICATE_NOT_FOUND")
    return row


def root_certificate(session: Session) -> x509.Certificate | None:
    row = active_row(session, ROOT, CA_HOLDER)
    return x.certificate_from_pem(row.certificate_pem) if row else None


def root_pem(session: Session) -> bytes | None:
    row = active_row(session, ROOT, CA_HOLDER)
    return row.certificate_pem.encode() if row else None


# ---------------------------------------------------------------- creation on first need


def _fit(name: str) -> str:
    name = " ".join(name.split())
    return name if len(name) <= MAX_CN else name[: MAX_CN - 1].rstrip() + "…"


def _insert(session: Session, settings: Settings, issued: x.IssuedCertificate, *, kind: str, holder: str,
            now: datetime, issuer: x.IssuedCertificate | None, owner_username: str | None = None,
            owner_agency_code: str | None = None) -> PkiCertificate | None:
    """Insert the certificate inside a savepoint; ``None`` when a concurrent transaction won the race."""
    row = PkiCertificate(
        serial=issued.serial_hex, kind=kind, holder=holder,
        subject=issued.certificate.subject.rfc4514_string(),
        common_name=issued.common_name, owner_username=owner_username, owner_agency_code=owner_agency_code,
        issuer_serial=issuer.serial_hex if issuer else None, certificate_pem=issued.certificate_pem.decode(),
        encrypted_key_pem=x.encrypt_private_key(issued.private_key, settings.ca_key_passphrase).decode(),
        issued_at=now,
    )
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        log.info("a concurrent transaction created the %s certificate of %s first", kind, holder)
        return None
    _loaded.put((row.serial, settings.ca_key_passphrase), issued)
    return row


def _ensure(session: Session, settings: Settings, kind: str, holder: str, now: datetime,
            create: Callable[[], tuple[x.IssuedCertificate, x.IssuedCertificate | None, dict[str, Any]]],
            *, for_update: bool = False) -> x.IssuedCertificate:
    row = active_row(session, kind, holder, for_update=for_update)
    if row is None:
        issued, issuer, owner = create()
        row = _insert(session, settings, issued, kind=kind, holder=holder, now=now, issuer=issuer, **owner)
        if row is None:
            row = active_row(session, kind, holder, for_update=for_update)
        if row is None:  # the winner's row is not visible (cannot happen under READ COMMITTED / SQLite)
            raise SigningUnavailable("Không tạo được chứng thư số; vui lòng thử lại.")
    return _load(session, settings, row)


def ensure_authorities(session: Session, settings: Settings, now: datetime) -> x.IssuedCertificate:
    """The issuing CA (its chain ends with the root), both created on first need."""
    root = _ensure(session, settings, ROOT, CA_HOLDER, now, lambda: (x.create_root_ca(now), None, {}))
    return _ensure(session, settings, ISSUING, CA_HOLDER, now,
                   lambda: (x.create_issuing_ca(root, ISSUING_CA_NAME, now), root, {}))


def approver_signer(session: Session, settings: Settings, user: User, now: datetime) -> x.IssuedCertificate:
    """The approver's current personal certificate (P-256, digitalSignature + contentCommitment), issued on
    first need and again after a revocation. Its row is locked for the rest of the transaction."""
    issuing = ensure_authorities(session, settings, now)

    def create() -> tuple[x.IssuedCertificate, x.IssuedCertificate, dict[str, Any]]:
        agency = session.get(Agency, user.agency_code) if user.agency_code else None
        issued = x.issue_signer_certificate(issuing, _fit(user.full_name), agency.name if agency else "",
                                            now, crl_url=crl_url(settings))
        return issued, issuing, {"owner_username": user.username, "owner_agency_code": user.agency_code}

    return _ensure(session, settings, APPROVER, user.username, now, create, for_update=True)


def desk_signer(session: Session, settings: Settings, agency_code: str, now: datetime) -> x.IssuedCertificate:
    """The one-stop desk's certificate of an agency (signs the receipts, Mẫu 01), issued on first need."""
    issuing = ensure_authorities(session, settings, now)

    def create() -> tuple[x.IssuedCertificate, x.IssuedCertificate, dict[str, Any]]:
        agency = session.get(Agency, agency_code)
        name = agency.name if agency else agency_code
        issued = x.issue_signer_certificate(issuing, _fit(f"{DESK_PREFIX} — {name}"), name, now,
                                            crl_url=crl_url(settings))
        return issued, issuing, {"owner_agency_code": agency_code}

    return _ensure(session, settings, DESK, agency_code, now, create, for_update=True)


def find_signer(session: Session, settings: Settings, kind: str, holder: str) -> x.IssuedCertificate | None:
    """The current certificate of ``holder`` if it exists already (read-only; ``None`` otherwise)."""
    row = active_row(session, kind, holder)
    return _load(session, settings, row) if row else None


def find_issuing(session: Session, settings: Settings) -> x.IssuedCertificate | None:
    return find_signer(session, settings, ISSUING, CA_HOLDER)


# ---------------------------------------------------------------- revocation


def effective_revocation(revoked_at: datetime) -> datetime:
    """When a revocation takes effect: the first whole second after it was recorded (see the module
    docstring)."""
    return revoked_at.replace(microsecond=0) + timedelta(seconds=1)


def revocations(session: Session) -> dict[str, datetime]:
    """``{serial_hex: effective revocation time}`` of every revoked certificate."""
    rows = session.exec(select(PkiCertificate.serial, PkiCertificate.revoked_at)
                        .where(col(PkiCertificate.revoked_at).is_not(None))).all()
    return {serial: effective_revocation(revoked_at) for serial, revoked_at in rows if revoked_at is not None}


def crl(session: Session, issuing: x.IssuedCertificate, now: datetime) -> bytes:
    """The CRL of the issuing CA (DER): every revoked approver and desk certificate, signed now (legal
    time)."""
    query = select(PkiCertificate.serial, PkiCertificate.revoked_at).where(
        PkiCertificate.issuer_serial == issuing.serial_hex, col(PkiCertificate.revoked_at).is_not(None))
    rows = session.exec(query).all()
    entries = [(x.serial_from_hex(serial), effective_revocation(at)) for serial, at in rows if at is not None]
    # The CRL number only has to grow: real time does, the simulated legal clock may be set back.
    return x.build_crl(issuing, entries, now, crl_number=max(1, int(utc_now().timestamp() * 1000)))


def revoke(session: Session, row: PkiCertificate, *, reason: str | None, by: str,
           now: datetime) -> PkiCertificate:
    """Revoke one approver or desk certificate at legal ``now`` (the CAs are not revocable here)."""
    locked = session.get(PkiCertificate, row.id, with_for_update=True, populate_existing=True) or row
    if locked.kind in CA_KINDS:
        raise Conflict("Không thể thu hồi chứng thư số của tổ chức chứng thực (CA) qua API này.",
                       code="CA_NOT_REVOCABLE")
    if locked.revoked_at is not None:
        raise Conflict(f"Chứng thư số {locked.serial} đã bị thu hồi.", code="CERTIFICATE_ALREADY_REVOKED")
    locked.revoked_at = now
    locked.revocation_reason = reason
    locked.revoked_by = by
    session.add(locked)
    session.flush()
    return locked


def revoke_user_certificate(session: Session, username: str, *, reason: str | None, by: str,
                            now: datetime) -> PkiCertificate:
    """Revoke the officer's current personal certificate; the next approval issues a new one."""
    if session.exec(select(User.id).where(User.username == username)).first() is None:
        raise NotFound(f"Không tìm thấy người dùng {username}.", code="USER_NOT_FOUND")
    row = active_row(session, APPROVER, username, for_update=True)
    if row is None:
        raise NotFound(f"Cán bộ {username} không có chứng thư số đang hiệu lực.",
                       code="CERTIFICATE_NOT_FOUND")
    return revoke(session, row, reason=reason, by=by, now=now)


def list_certificates(session: Session, *, kind: str | None, owner: str | None, revoked: bool | None,
                      limit: int, cursor: str | None) -> tuple[list[PkiCertificate], str | None]:
    """Certificates in issue order (keyset-paginated on id)."""
    query = select(PkiCertificate)
    if kind:
        query = query.where(PkiCertificate.kind == kind)
    if owner:
        query = query.where(PkiCertificate.holder == owner)
    if revoked is not None:
        revoked_at = col(PkiCertificate.revoked_at)
        query = query.where(revoked_at.is_not(None) if revoked else revoked_at.is_(None))
    return keyset_page(session, query, list_name="certificates", keys=[col(PkiCertificate.id)], limit=limit,
                       cursor=cursor)


# ---------------------------------------------------------------- verification


def verify(session: Session, pdf: bytes) -> pades.VerificationReport:
    """Verify an uploaded PDF against our root and every recorded revocation (never raises for bad input)."""
    root = root_certificate(session)
    recorded: Mapping[str, datetime] = revocations(session)
    roots = [root] if root is not None else []
    return pades.verify_pdf(pdf, trust_roots=roots, revocations=recorded, now=None)


# ---------------------------------------------------------------- certificates issued on first need


def on_demand(db: Database, clock: LegalClock, session: Session,
              find: Callable[[Session], x.IssuedCertificate | None],
              issue: Callable[[Session, datetime], x.IssuedCertificate]) -> x.IssuedCertificate:
    """A certificate a read request needs (the issuing CA, a desk's, an approver's): ``find`` it in the
    request's (read-only) ``session``, or ``issue`` it once in a short write transaction of its own, committed
    at once and kept. The only place a read request writes: provisioning, never a dossier's state."""
    found = find(session)
    if found is not None:
        return found
    with db.transaction() as write:
        return issue(write, clock.now(write))


def issuing_ca(db: Database, clock: LegalClock, settings: Settings, session: Session) -> x.IssuedCertificate:
    """The issuing CA; on a fresh system the hierarchy is created on first need (:func:`on_demand`)."""
    return on_demand(db, clock, session, lambda s: find_issuing(s, settings),
                     lambda s, now: ensure_authorities(s, settings, now))


def approver_signer_named(session: Session, settings: Settings, username: str,
                          now: datetime) -> x.IssuedCertificate:
    """:func:`approver_signer` of the account ``username``."""
    approver = session.exec(select(User).where(User.username == username)).one()
    return approver_signer(session, settings, approver, now)
