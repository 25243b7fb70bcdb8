"""Issue 6: the simulated PKI — hierarchy created once and persisted, keys encrypted at rest, approver
certificates, revocation (earlier signatures stay valid, a revoked certificate never signs again), CRL,
foreign CAs untrusted."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi.testclient import TestClient
from sqlmodel import func, select

from service.main import create_app
from service.models import PkiCertificate
from service.settings import Settings
from service.signing import pades, pki
from tests.api.test_results import (
    APPROVER_NAME,
    approved,
    db,
    download,
    processing,
    pyhanko_status,
    verify,
)
from tests.api.test_results import _fast_password_hashing as _fast_password_hashing
from tests.api.test_results import world as world
from tests.builders import World
from tests.conftest import ADMIN, bearer

SIMULATION = "SIMULATION — NOT FOR LEGAL USE"


def rows(world: World, **where: Any) -> list[PkiCertificate]:
    with db(world).transaction(read_only=True) as session:
        query = select(PkiCertificate).order_by(PkiCertificate.id)  # type: ignore[arg-type]
        for name, value in where.items():
            query = query.where(getattr(PkiCertificate, name) == value)
        return list(session.exec(query))


def certificates(world: World, query: str = "") -> list[dict[str, Any]]:
    response = world.client.get(f"/api/v1/pki/certificates{query}", headers=world.as_("admin"))
    assert response.status_code == 200, response.text
    return response.json()["items"]  # type: ignore[no-any-return]


def revoke_user(world: World, username: str, reason: str | None = None, expect: int = 200) -> dict[str, Any]:
    body = {"reason": reason} if reason else None
    response = world.client.post(f"/api/v1/users/{username}/certificate/revoke", json=body,
                                 headers=world.as_("admin"))
    assert response.status_code == expect, response.text
    return response.json()  # type: ignore[no-any-return]


# ---------------------------------------------------------------- the hierarchy


def test_root_is_public_self_signed_simulated_and_created_once(client: TestClient,
                                                               settings: Settings) -> None:
    first = client.get("/api/v1/pki/root.pem")
    assert first.status_code == 200 and first.headers["content-type"].startswith("application/x-pem-file")
    root = x509.load_pem_x509_certificate(first.content)
    assert SIMULATION in root.subject.rfc4514_string()
    assert root.issuer == root.subject
    root.verify_directly_issued_by(root)
    assert root.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    assert client.get("/api/v1/pki/root.pem").content == first.content  # persisted, not re-created

    db_ = client.app.state.context.db  # type: ignore[attr-defined]
    with db_.transaction(read_only=True) as session:
        stored = list(session.exec(select(PkiCertificate)))
    assert sorted(r.kind for r in stored) == ["issuing", "root"]
    issuing = next(r for r in stored if r.kind == "issuing")
    x509.load_pem_x509_certificate(issuing.certificate_pem.encode()).verify_directly_issued_by(root)
    for row in stored:  # private keys are encrypted at rest with the configured passphrase
        assert row.encrypted_key_pem is not None
        assert row.encrypted_key_pem.startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")
        assert isinstance(pki.load_private_key(row.encrypted_key_pem, settings.ca_key_passphrase),
                          ec.EllipticCurvePrivateKey)
        with pytest.raises(ValueError):
            pki.load_private_key(row.encrypted_key_pem, "not-the-passphrase")


def test_several_processes_starting_at_once_share_one_hierarchy(settings: Settings) -> None:
    apps = [create_app(settings) for _ in range(3)]
    clients = [TestClient(app, raise_server_exceptions=False) for app in apps]
    for c in clients:
        c.__enter__()
        # FastAPI builds a router's routes when a request first reaches them, and these apps share the routers
        # (module objects): built from six threads at once, pydantic warned of a header's alias. A process serves
        # one app from one event loop; here each app first walks every router once (a path no route has).
        assert c.get("/api/v1/-").status_code == 404
    try:
        barrier = threading.Barrier(6)

        def fetch(i: int) -> bytes:
            own = TestClient(apps[i % 3], raise_server_exceptions=False)  # one client per thread
            barrier.wait()
            response = own.get("/api/v1/pki/root.pem" if i % 2 else "/api/v1/pki/crl.der")
            assert response.status_code == 200, response.text
            return own.get("/api/v1/pki/root.pem").content

        with ThreadPoolExecutor(max_workers=6) as pool:
            pems = set(pool.map(fetch, range(6)))
        assert len(pems) == 1
        with apps[0].state.context.db.transaction(read_only=True) as session:
            query = select(PkiCertificate.kind, func.count()).group_by(PkiCertificate.kind)
            kinds = session.exec(query).all()
        assert dict(kinds) == {"root": 1, "issuing": 1}
    finally:
        for c in clients:
            c.__exit__(None, None, None)


def test_an_approver_gets_a_personal_p256_certificate(world: World) -> None:
    _, result = approved(world)
    [row] = rows(world, kind="approver")
    assert row.serial == result["certificate_serial"]
    assert (row.owner_username, row.owner_agency_code) == ("lanhdao", "000.00.61.H49")
    assert row.common_name == APPROVER_NAME
    cert = x509.load_pem_x509_certificate(row.certificate_pem.encode())
    key = cert.public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name == "secp256r1"
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.content_commitment and not usage.key_cert_sign
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    assert SIMULATION in cert.subject.rfc4514_string()
    [issuing] = rows(world, kind="issuing")
    cert.verify_directly_issued_by(x509.load_pem_x509_certificate(issuing.certificate_pem.encode()))

    # the same certificate signs the approver's next result
    second = processing(world)
    assert world.act(second, "approve", "approver")["result"]["certificate_serial"] == row.serial
    listed = certificates(world, "?kind=approver")
    assert [(c["serial"], c["owner"], c["common_name"], c["revoked_at"]) for c in listed] == [
        (row.serial, "lanhdao", APPROVER_NAME, None)]
    assert listed[0]["issued_at"] == "2026-03-03T10:15:30+07:00"


def test_the_crl_is_public_and_signed_by_the_issuing_ca(world: World) -> None:
    approved(world)
    response = world.client.get("/api/v1/pki/crl.der")
    assert response.status_code == 200 and response.headers["content-type"] == "application/pkix-crl"
    crl = x509.load_der_x509_crl(response.content)
    [issuing] = rows(world, kind="issuing")
    issuer = x509.load_pem_x509_certificate(issuing.certificate_pem.encode())
    assert crl.issuer == issuer.subject
    assert crl.is_signature_valid(issuer.public_key())  # type: ignore[arg-type]
    assert len(crl) == 0


# ---------------------------------------------------------------- revocation


def test_revoking_after_signing_keeps_earlier_results_valid_and_forces_a_new_certificate(
        world: World) -> None:
    code, result = approved(world)  # signed 2026-03-03 10:15:30
    old_serial = result["certificate_serial"]
    world.set_clock("2026-03-03T14:00:00+07:00")
    revoked = revoke_user(world, "lanhdao", "Thiết bị lưu khóa bị mất")
    assert revoked["serial"] == old_serial
    assert revoked["revoked_at"] == "2026-03-03T14:00:00+07:00"
    assert revoked["revocation_reason"] == "Thiết bị lưu khóa bị mất"
    assert revoked["revoked_by"] == ADMIN[0]

    report = verify(world.client, download(world, code))
    assert report["valid"] is True and report["revoked"] is True and report["trusted"] is True
    assert "thu hồi sau thời điểm ký" in report["reason"]
    assert report["signer"] == APPROVER_NAME

    crl = x509.load_der_x509_crl(world.client.get("/api/v1/pki/crl.der").content)
    entry = crl.get_revoked_certificate_by_serial_number(int(old_serial, 16))
    assert entry is not None
    assert entry.revocation_date_utc == datetime(2026, 3, 3, 7, 0, 1, tzinfo=UTC)  # effective from 14:00:01

    # the next approval by the same officer is signed with a new certificate
    world.set_clock("2026-03-03T15:00:00+07:00")
    later = processing(world)
    new = world.act(later, "approve", "approver")["result"]
    assert new["certificate_serial"] != old_serial
    fresh = verify(world.client, download(world, later))
    assert fresh["valid"] is True and fresh["revoked"] is False
    assert fresh["certificate_serial"] == new["certificate_serial"]
    assert pyhanko_status(world.client, download(world, later)).bottom_line
    assert [(c["serial"], c["revoked_at"] is not None) for c in certificates(world, "?owner=lanhdao")] == [
        (old_serial, True), (new["certificate_serial"], False)]
    assert [c["serial"] for c in certificates(world, "?revoked=true")] == [old_serial]


def test_a_revocation_at_the_same_frozen_instant_leaves_the_signature_valid(world: World) -> None:
    code, _ = approved(world)  # the simulated clock stays frozen at 10:15:30
    revoke_user(world, "lanhdao")
    report = verify(world.client, download(world, code))
    assert report["valid"] is True and report["revoked"] is True


def test_a_signature_made_with_a_revoked_certificate_is_invalid(world: World, settings: Settings) -> None:
    code, result = approved(world)
    world.set_clock("2026-03-04T08:00:00+07:00")
    revoke_user(world, "lanhdao")
    # Someone still holding the revoked key signs a document claiming a time after the revocation.
    [row] = rows(world, serial=result["certificate_serial"])
    assert row.encrypted_key_pem is not None
    key = pki.load_private_key(row.encrypted_key_pem, settings.ca_key_passphrase)
    cert = x509.load_pem_x509_certificate(row.certificate_pem.encode())
    chain = [x509.load_pem_x509_certificate(r.certificate_pem.encode())
             for kind in ("issuing", "root") for r in rows(world, kind=kind)]
    pdf = download(world, code)
    forged = pades.sign_pdf(pdf, key=key, cert=cert, chain=chain, field_name="GiaMao", reason="x",
                            location="y", signing_time=datetime(2026, 3, 5, 9, 0, tzinfo=UTC))
    report = verify(world.client, forged)
    assert report["valid"] is False and report["revoked"] is True and report["trusted"] is True
    assert "thu hồi trước thời điểm ký" in report["reason"]


def test_a_pdf_signed_by_a_foreign_self_made_ca_is_not_trusted(world: World) -> None:
    code, _ = approved(world)
    now = datetime(2026, 3, 3, 3, 0, tzinfo=UTC)
    # Same names as ours, different keys: names alone earn no trust.
    fake_root = pki.create_root_ca(now)
    fake_ca = pki.create_issuing_ca(fake_root, "Một Cửa Issuing CA (cấp cơ quan)", now)
    impostor = pki.issue_signer_certificate(fake_ca, APPROVER_NAME, "Ủy ban nhân dân xã Tiên Yên", now)
    original = download(world, code)
    unsigned = original[: original.index(b"%%EOF") + 5]
    forged = pades.sign_pdf(unsigned, key=impostor.private_key, cert=impostor.certificate,
                            chain=list(impostor.chain), field_name="KetQua", reason="x", location="y",
                            signing_time=now)
    report = verify(world.client, forged)
    assert report["trusted"] is False and report["valid"] is False
    assert report["intact"] is True and report["signer"] == APPROVER_NAME
    assert "không được cấp bởi tổ chức chứng thực tin cậy" in report["reason"]
    assert not pyhanko_status(world.client, forged).trusted


def test_revocation_errors_and_permissions(world: World) -> None:
    _, result = approved(world)
    serial = result["certificate_serial"]
    url = f"/api/v1/pki/certificates/{serial}/revoke"
    assert world.client.post(url).status_code == 401
    response = world.client.post(url, headers=world.as_("approver"))
    assert response.status_code == 403 and response.json()["code"] == "FORBIDDEN_ROLE"
    assert world.client.get("/api/v1/pki/certificates", headers=world.as_("receiver")).status_code == 403
    response = world.client.post("/api/v1/pki/certificates/00ff/revoke", headers=world.as_("admin"))
    assert response.status_code == 404 and response.json()["code"] == "CERTIFICATE_NOT_FOUND"
    response = world.client.post("/api/v1/pki/certificates/not-hex/revoke", headers=world.as_("admin"))
    assert response.status_code == 404
    [root] = rows(world, kind="root")
    response = world.client.post(f"/api/v1/pki/certificates/{root.serial}/revoke", headers=world.as_("admin"))
    assert response.status_code == 409 and response.json()["code"] == "CA_NOT_REVOCABLE"

    response = world.client.post(f"/api/v1/pki/certificates/{serial.upper()}/revoke",
                                 headers=world.as_("admin"), json={"reason": "Cán bộ nghỉ hưu"})
    assert response.status_code == 200 and response.json()["serial"] == serial  # hex is case-insensitive
    response = world.client.post(url, headers=world.as_("admin"))
    assert response.status_code == 409 and response.json()["code"] == "CERTIFICATE_ALREADY_REVOKED"
    body = revoke_user(world, "lanhdao", expect=404)
    assert body["code"] == "CERTIFICATE_NOT_FOUND"  # no current certificate left
    assert revoke_user(world, "no-such-user", expect=404)["code"] == "USER_NOT_FOUND"
    response = world.client.post(url, headers=world.as_("admin"), json={"reason": ""})
    assert response.status_code == 422


def test_revoking_the_desk_certificate_gives_the_desk_a_new_one(world: World) -> None:
    code = world.submit()["code"]
    before = verify(world.client, download(world, code, "receipt"))
    world.set_clock("2026-03-02T10:00:00+07:00")
    response = world.client.post(f"/api/v1/pki/certificates/{before['certificate_serial']}/revoke",
                                 headers=world.as_("admin"))
    assert response.status_code == 200 and response.json()["kind"] == "desk"
    after = verify(world.client, download(world, code, "receipt"))
    assert after["certificate_serial"] != before["certificate_serial"]
    assert after["valid"] is True and after["revoked"] is False


def test_a_wrong_key_passphrase_fails_the_approval_cleanly(world: World, settings: Settings) -> None:
    approved(world)  # the hierarchy and the approver's key exist, encrypted with the right passphrase
    code = processing(world)
    wrong = create_app(settings.model_copy(update={"ca_key_passphrase": "another-passphrase-0123456789"}))
    with TestClient(wrong, raise_server_exceptions=False) as other:
        headers = bearer(other, "lanhdao", "Demo@123456")
        response = other.post(f"/api/v1/dossiers/{code}/actions/approve", json={}, headers=headers)
        assert response.status_code == 503 and response.json()["code"] == "SIGNING_KEY_UNAVAILABLE"
        assert other.get(f"/api/v1/dossiers/{code}", headers=headers).json()["status"] == "processing"
    assert world.act(code, "approve", "approver")["status"] == "result_ready"


def test_a_transaction_that_loses_the_race_for_the_root_reuses_the_winners(settings: Settings) -> None:
    """Two first needs at once: the loser's insert conflicts (PostgreSQL: inside a savepoint, after waiting
    for the winner's commit; SQLite: its write transaction waits for the winner's) and it carries on with the
    winner's CA."""
    from service.context import AppContext
    from service.operations import pki as pki_operations

    context = AppContext.from_settings(settings)
    now = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
    winner_inserted, loser_started = threading.Event(), threading.Event()

    def winner() -> str:
        with context.db.transaction() as session:
            issuing = pki_operations.ensure_authorities(session, settings, now)
            winner_inserted.set()
            loser_started.wait(timeout=10)
            threading.Event().wait(0.5)  # let the loser reach its conflicting insert
            return issuing.serial_hex

    def loser() -> str:
        winner_inserted.wait(timeout=10)
        with context.db.transaction() as session:
            loser_started.set()
            return pki_operations.ensure_authorities(session, settings, now).serial_hex

    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            first, second = pool.submit(winner), pool.submit(loser)
            assert first.result(timeout=60) == second.result(timeout=60)
        with context.db.transaction(read_only=True) as session:
            query = select(PkiCertificate.kind, func.count()).group_by(PkiCertificate.kind)
            assert dict(session.exec(query).all()) == {"root": 1, "issuing": 1}
    finally:
        context.db.dispose()
