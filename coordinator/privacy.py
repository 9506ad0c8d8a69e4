"""Personal contact data (a reporter's name and phone): masking and the one way to show it.

`show_contact` is what every view or export that carries contact data calls: it asks the policy how
much the caller's role may see (full / masked / absent), masks accordingly, and appends an audit record
whenever unmasked data leaves the service.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy.orm import Session

from coordinator.auth.models import User
from coordinator.auth.services import record_contact_read
from coordinator.policy import Visibility, contact_visibility

_DIGITS = re.compile(r"\d")


@dataclass(frozen=True)
class Contact:
    """A reporter's contact data as stored (both optional: collect the minimum)."""

    name: str | None = None
    phone: str | None = None


def mask_phone(phone: str) -> str:
    """Keep the first 3 and last 4 digits: 13812341234 → 138****1234, +86 138 1234 1234 → 138****1234.

    Numbers with fewer than 8 digits keep only their last 2 (a short number is easier to guess).
    """
    digits = "".join(_DIGITS.findall(phone))
    if digits.startswith("86") and len(digits) == 13:  # +86 country code before a mobile number
        digits = digits[2:]
    if len(digits) >= 8:
        return f"{digits[:3]}{'*' * (len(digits) - 7)}{digits[-4:]}"
    if len(digits) > 2:
        return "*" * (len(digits) - 2) + digits[-2:]
    return "*" * len(digits)


def mask_name(name: str) -> str:
    """Keep the first character: 张三丰 → 张**, Li Lei → L*****."""
    name = name.strip()
    if not name:
        return ""
    return name[0] + "*" * (len(name) - 1) if len(name) > 1 else "*"


def present_contact(contact: Contact, visibility: Visibility) -> dict[str, str | None] | None:
    """The contact as the caller may see it: full, masked, or None (absent)."""
    if visibility == "absent":
        return None
    if visibility == "masked":
        return {
            "name": mask_name(contact.name) if contact.name else None,
            "phone": mask_phone(contact.phone) if contact.phone else None,
        }
    return {"name": contact.name, "phone": contact.phone}


def show_contact(
    session: Session,
    user: User,
    contact: Contact,
    *,
    subject_type: str,
    subject_id: str | int,
    purpose: str = "",
    export: bool = False,
) -> dict[str, str | None] | None:
    """Contact data for `user`, masked or left out by role; unmasked reads are audited."""
    visibility = contact_visibility(user.role, export=export)
    shown = present_contact(contact, visibility)
    if visibility == "full":
        fields = [f for f in ("name", "phone") if getattr(contact, f)]
        if fields:
            record_contact_read(
                session,
                user,
                subject_type=subject_type,
                subject_id=subject_id,
                fields=fields,
                purpose=purpose,
            )
    return shown
