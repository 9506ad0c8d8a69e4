"""People, API tokens, and the append-only audit of unmasked personal-data reads.

Table names avoid SQL keywords (`user` is reserved in PostgreSQL).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coordinator.db import Base, UtcDateTime, utcnow
from coordinator.squads.models import Squad

ROLES = (
    "squad_leader",
    "squad_member",
    "dispatcher",
    "committee",
    "admin",
    "reporter",
    "grid_worker",
    "volunteer",
    "property_manager",
)
SQUAD_ROLES = ("squad_leader", "squad_member")
# Patrollers (城管巡查员): grid workers (网格员) and village volunteers (村民志愿者), each scoped to a town.
PATROLLER_ROLES = ("grid_worker", "volunteer")


def _sql_list(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


class User(Base):
    """A person or a client (an app, a camera gateway) with exactly one role.

    `squad_leader` / `squad_member` belong to one squad; a `dispatcher` works for one district
    (`district_code`) or, with none, for the whole alliance; a patroller (`grid_worker`, `volunteer`)
    checks one town (`town_code`, the code of a town's admin_area, like a squad's jurisdiction). Other
    roles have none of these; a `property_manager` (物业) is scoped to the compounds it manages
    (coordinator/community).
    """

    __tablename__ = "user_account"
    __table_args__ = (
        CheckConstraint(f"role IN ({_sql_list(ROLES)})", name="role"),
        CheckConstraint(
            f"(role IN ({_sql_list(SQUAD_ROLES)})) = (squad_id IS NOT NULL)", name="squad_role_has_squad"
        ),
        CheckConstraint("district_code IS NULL OR role = 'dispatcher'", name="district_only_dispatcher"),
        Index("uq_user_account_username_key", "username_key", unique=True),
        CheckConstraint(
            f"(role IN ({_sql_list(PATROLLER_ROLES)})) = (town_code IS NOT NULL)", name="patroller_has_town"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    # The username folded to lower case: unique too, so names differing only in case cannot coexist
    # (and logins find the account whatever the case typed).
    username_key: Mapped[str] = mapped_column(String(64), server_default="")
    display_name: Mapped[str] = mapped_column(String(100), default="")
    role: Mapped[str] = mapped_column(String(20))
    squad_id: Mapped[int | None] = mapped_column(ForeignKey("squad.id"), index=True)
    district_code: Mapped[str | None] = mapped_column(String(32))
    town_code: Mapped[str | None] = mapped_column(String(32))
    # A modern KDF hash (werkzeug scrypt); None for token-only clients, who cannot log in.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    squad: Mapped[Squad | None] = relationship(lazy="joined")
    tokens: Mapped[list[ApiToken]] = relationship(back_populates="user")

    @property
    def scope_district(self) -> str | None:
        """The district the user acts for: the squad's, the dispatcher's, or None (alliance-wide)."""
        if self.squad is not None:
            return self.squad.district_code
        if self.town_code is not None and self.town_code[:6].isdigit():
            return self.town_code[:6]  # a town's division code starts with its district's
        return self.district_code


class WebSession(Base):
    """A browser session, held on the server so it can end there: logout, `users revoke` and
    deactivation revoke it, and a copy of its cookie stops working. The cookie carries a random id;
    only its SHA-256 is stored."""

    __tablename__ = "web_session"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class ApiToken(Base):
    """A bearer token. Only its SHA-256 is stored; the token itself is shown once, at creation."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The first characters of the token, to tell tokens apart in listings and revoke one by prefix.
    prefix: Mapped[str] = mapped_column(String(16), index=True)
    label: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    user: Mapped[User] = relationship(back_populates="tokens")

    def is_valid(self, now: datetime) -> bool:
        """Neither revoked nor expired at `now`."""
        return self.revoked_at is None and now < self.expires_at


class ContactAccessLog(Base):
    """One read of unmasked personal contact data (a reporter's name or phone). Append-only:
    the migration installs triggers on both backends that refuse UPDATE and DELETE."""

    __tablename__ = "contact_access_log"
    __table_args__ = (Index("ix_contact_access_log_subject", "subject_type", "subject_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    # Copies, so the record stays readable if the account is renamed or deactivated later.
    username: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(20))
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[str] = mapped_column(String(64))
    fields: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[str] = mapped_column(String(200), default="")


class LoginFailure(Base):
    """A failed password login, kept while it counts against its username's throttle window
    (`coordinator.auth.services.login_retry_after`). Unknown usernames count too: the answer must not
    tell whether an account exists."""

    __tablename__ = "login_failure"
    __table_args__ = (Index("ix_login_failure_username_at", "username", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # As typed, folded to lower case and cut to the column: one counter per spelling family.
    username: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
