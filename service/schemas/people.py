from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from service.schemas.common import AgencyCode, ApiModel, IsoDate, NationalId

RoleName = Literal["citizen", "receiver", "processor", "approver", "admin"]
"""The wire names of :data:`service.domain.roles.ACCOUNT_ROLES`."""
AgencyLevel = Literal["ministry", "province", "commune"]

Password = Annotated[str, Field(min_length=8, max_length=128)]
Name = Annotated[str, Field(min_length=1, max_length=255)]


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds until the access token expires")
    refresh_token: str | None = Field(default=None, description="Spend it at POST /auth/refresh for a new pair "
                                                                "(each refresh token works once)")
    refresh_expires_in: int | None = Field(default=None, description="Seconds until the refresh token expires")


class LoginIn(ApiModel):
    """Sign-in with a JSON body (the same check and failure limit as the OAuth2 form of ``POST /auth/token``)."""

    username: Annotated[str, Field(min_length=1, max_length=64, examples=["tiepnhan"])]
    password: Annotated[str, Field(min_length=1, max_length=128, examples=["Demo@123456"])]


class RefreshIn(ApiModel):
    refresh_token: Annotated[str, Field(min_length=1, max_length=200)]


class PasswordChangeIn(ApiModel):
    current_password: Annotated[str, Field(min_length=1, max_length=128)]
    new_password: Password


class RegisterIn(ApiModel):
    national_id: NationalId
    full_name: Name
    password: Password
    phone: Annotated[str, Field(pattern=r"^\+?[0-9]{8,15}$")] | None = None
    email: Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=255)] | None = None


class VerifyIdentityIn(ApiModel):
    """An empty body: the call itself records that the papers were checked."""


class UserIn(ApiModel):
    username: Annotated[str, Field(pattern=r"^[A-Za-z0-9._-]{3,64}$")]
    password: Password
    full_name: Name
    role: RoleName
    agency_code: AgencyCode | None = None


class UserOut(BaseModel):
    username: str
    full_name: str
    role: RoleName
    agency_code: str | None
    identity_verified: bool


class OfficeSession(BaseModel):
    start: Annotated[str, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]
    end: Annotated[str, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]


class AgencyIn(ApiModel):
    code: AgencyCode
    name: Name
    level: AgencyLevel
    parent_code: AgencyCode | None = None
    valid_from: IsoDate | None = Field(default=None, description="First day the unit exists (none: always)")
    valid_to: IsoDate | None = Field(default=None, description="Last day the unit exists (merged away)")
    succeeded_by: AgencyCode | None = Field(default=None, description="The unit it was merged into")


class MergeIn(ApiModel):
    """The unit is merged into ``succeeded_by`` after ``valid_to`` (administrative-unit rearrangement)."""

    succeeded_by: AgencyCode
    valid_to: IsoDate


class AgencyOut(BaseModel):
    code: str
    name: str
    level: AgencyLevel
    parent_code: str | None
    valid_from: IsoDate | None = None
    valid_to: IsoDate | None = None
    succeeded_by: str | None = None
