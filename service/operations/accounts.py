"""Accounts and agencies: registration, staff creation, bootstrap admin."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from service.domain.roles import STAFF_ROLES, Role
from service.errors import Conflict, NotFound, Unprocessable
from service.models import Agency, Dossier, User
from service.operations import reference
from service.pagination import keyset_page
from service.schemas.people import AgencyIn, RegisterIn, UserIn
from service.security.passwords import hash_password


def find_user(session: Session, username: str) -> User | None:
    return session.exec(select(User).where(User.username == username)).first()


def get_agency(session: Session, code: str) -> Agency:
    agency = session.exec(select(Agency).where(Agency.code == code)).first()
    if agency is None:
        raise NotFound(f"Không tìm thấy cơ quan có mã {code}.", code="AGENCY_NOT_FOUND")
    return agency


def register_citizen(session: Session, data: RegisterIn, *, password_hash: str, now: datetime) -> User:
    if find_user(session, data.national_id) is not None:
        raise Conflict("Số định danh cá nhân này đã được đăng ký.", code="USER_EXISTS")
    user = User(
        username=data.national_id,
        password_hash=password_hash,
        full_name=data.full_name,
        role=Role.CITIZEN,
        national_id=data.national_id,
        phone=data.phone,
        email=data.email,
        identity_verified=False,  # until a receiver or an admin has seen the person's papers
        created_at=now,
    )
    session.add(user)
    session.flush()
    return user


def create_user(session: Session, data: UserIn, *, now: datetime) -> User:
    if data.role in STAFF_ROLES and not data.agency_code:
        raise Unprocessable("Cán bộ phải thuộc một cơ quan (agency_code).", code="AGENCY_REQUIRED")
    if data.agency_code:
        get_agency(session, data.agency_code)
    if find_user(session, data.username) is not None:
        raise Conflict(f"Tên đăng nhập {data.username} đã tồn tại.", code="USER_EXISTS")
    national_id = data.username if data.role == Role.CITIZEN and data.username.isdigit() else None
    user = User(
        username=data.username,
        password_hash=hash_password(data.password),
        full_name=data.full_name,
        role=data.role,
        agency_code=data.agency_code if data.role != Role.CITIZEN else None,
        national_id=national_id,
        identity_verified=True,  # created by an admin, who answers for the person's identity
        created_at=now,
    )
    session.add(user)
    session.flush()
    return user


def ensure_admin(session: Session, username: str, password: str, *, now: datetime) -> bool:
    """Create the bootstrap admin if no such user exists; never overwrite an existing account."""
    if find_user(session, username) is not None:
        return False
    session.add(
        User(username=username, password_hash=hash_password(password), full_name="Quản trị hệ thống",
             role=Role.ADMIN, identity_verified=True, created_at=now)
    )
    session.flush()
    return True


def create_agency(session: Session, data: AgencyIn, *, now: datetime) -> Agency:
    if session.exec(select(Agency).where(Agency.code == data.code)).first() is not None:
        raise Conflict(f"Mã cơ quan {data.code} đã tồn tại.", code="AGENCY_EXISTS")
    if data.parent_code:
        get_agency(session, data.parent_code)
    if data.succeeded_by:
        get_agency(session, data.succeeded_by)
    check_validity(data.valid_from, data.valid_to)
    agency = Agency(code=data.code, name=data.name, level=data.level, parent_code=data.parent_code,
                    valid_from=data.valid_from, valid_to=data.valid_to, succeeded_by=data.succeeded_by,
                    created_at=now)
    session.add(agency)
    session.flush()
    reference.changed(session)
    return agency


def list_agencies(session: Session, *, limit: int, cursor: str | None,
                  parent_code: str | None) -> tuple[list[Agency], str | None]:
    """Agencies in code order, keyset-paginated (:func:`service.pagination.keyset_page`)."""
    query = select(Agency)
    if parent_code:
        query = query.where(Agency.parent_code == parent_code)
    return keyset_page(session, query, list_name="agencies", keys=[col(Agency.code)], limit=limit, cursor=cursor)


def list_users(session: Session, *, limit: int, cursor: str | None, agency_code: str | None,
               role: str | None) -> tuple[list[User], str | None]:
    """Accounts in username order, keyset-paginated (:func:`service.pagination.keyset_page`)."""
    query = select(User)
    if agency_code:
        query = query.where(User.agency_code == agency_code)
    if role:
        query = query.where(User.role == role)
    return keyset_page(session, query, list_name="users", keys=[col(User.username)], limit=limit, cursor=cursor)


def check_validity(valid_from: date | None, valid_to: date | None) -> None:
    if valid_from and valid_to and valid_to < valid_from:
        raise Unprocessable("Ngày hết hiệu lực phải sau ngày bắt đầu hiệu lực.", code="AGENCY_VALIDITY_INVALID")


def merge_agency(session: Session, code: str, *, succeeded_by: str, valid_to: date) -> Agency:
    """The unit ceases after ``valid_to`` and is merged into ``succeeded_by`` (sắp xếp đơn vị hành chính):
    its dossiers keep its code; statistics for periods after ``valid_to`` roll them up into the successor."""
    agency = get_agency(session, code)
    successor = get_agency(session, succeeded_by)
    if successor.code == agency.code:
        raise Unprocessable("Không thể sáp nhập một đơn vị vào chính nó.", code="AGENCY_VALIDITY_INVALID")
    check_validity(agency.valid_from, valid_to)
    agency.valid_to, agency.succeeded_by = valid_to, successor.code
    session.add(agency)
    session.flush()
    reference.changed(session)
    return agency


def verify_identity(session: Session, username: str, *, verifier: User, now: datetime) -> User:
    """Record that ``verifier`` (a receiver or an admin) has checked the citizen's identity papers, and link
    the dossiers desks lodged earlier under that national id to the account (contract v2, Identity).

    Legal basis: the one-stop desk checks the applicant's identity papers when it receives a dossier (Decree
    61/2018/NĐ-CP Art. 17(1)(a)); an online account is tied to a person by electronic identification (Decree
    69/2024/NĐ-CP on electronic identification). Whether a commune receiver may verify a portal account is a
    policy of this simulator, not a rule found in those texts.
    """
    user = find_user(session, username)
    if user is None:
        raise NotFound(f"Không tìm thấy tài khoản {username}.", code="USER_NOT_FOUND")
    if user.role != Role.CITIZEN or not user.national_id:
        raise Unprocessable("Chỉ xác minh danh tính cho tài khoản công dân có số định danh cá nhân.",
                            code="NOT_A_CITIZEN")
    if not user.identity_verified:
        user.identity_verified = True
        user.identity_verified_at = now
        user.identity_verified_by = verifier.username
        session.add(user)
        session.execute(
            update(Dossier)
            .where(col(Dossier.applicant_national_id) == user.national_id,
                   col(Dossier.applicant_user_id).is_(None))
            .values(applicant_user_id=user.id)
        )
        session.flush()
    return user
