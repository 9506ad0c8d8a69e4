"""Schemas of the people API (login, the caller, users, the contact-read audit)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from coordinator.validation import QueryModel

RoleName = Literal[
    "squad_leader",
    "squad_member",
    "dispatcher",
    "committee",
    "admin",
    "reporter",
    "grid_worker",
    "volunteer",
    "property_manager",
]


class LoginBody(BaseModel):
    """Username and password of a person (token-only clients cannot log in)."""

    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=200)


class UserSquad(BaseModel):
    """A squad by code and name."""

    code: str
    name: str
    district: str


class UserOut(BaseModel):
    """A user as others may see them (no secrets, no contact data)."""

    username: str
    display_name: str
    role: RoleName
    squad: UserSquad | None = Field(description="For squad leaders and members.")
    district: str | None = Field(description="The district the user acts for; null = the whole alliance.")
    town: str | None = Field(
        default=None, description="For grid workers and volunteers: the code of the town they check."
    )
    active: bool


class Me(UserOut):
    """The caller, how they authenticated, and what they may do."""

    authenticated_via: Literal["token", "session"]
    token_prefix: str | None = Field(description="First characters of the API token in use.")
    token_expires_at: datetime | None
    csrf_token: str | None = Field(
        description="For browser sessions: send it as X-CSRF-Token on POST/PUT/PATCH/DELETE."
    )
    contact_visibility: Literal["full", "masked", "absent"] = Field(
        description="How much of a reporter's contact data this role sees."
    )
    endpoints: list[str] = Field(description="Protected endpoints this role may call.")


class LoginResult(BaseModel):
    """A browser session was started (the cookie is set); keep the CSRF token for unsafe requests."""

    user: UserOut
    csrf_token: str
    expires_at: datetime


class UserQuery(QueryModel):
    """Filters for the user list."""

    role: RoleName | None = None
    district: str | None = Field(default=None, description="Users acting for this district.")


class UserList(BaseModel):
    """Users, by username."""

    users: list[UserOut]


class ContactReadQuery(QueryModel):
    """Filters for the contact-read audit."""

    subject_type: str | None = None
    subject_id: str | None = None
    username: str | None = None
    limit: int = Field(default=100, ge=1, le=1000)


class ContactRead(BaseModel):
    """One read of unmasked contact data."""

    at: datetime
    username: str
    role: RoleName
    subject_type: str
    subject_id: str
    fields: list[str]
    purpose: str


class ContactReadList(BaseModel):
    """Audit records, newest first."""

    reads: list[ContactRead]
