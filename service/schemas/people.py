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
    expires_in: int


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
