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
from coordinator.permissions import Visibility, contact_visibility

_DIGITS = re.compile(r"\d")
# Personal data people type into a report's free text: mainland mobile numbers (+86 and separators
# allowed), landlines with an area code (021-57123456), 18-character resident ID numbers, e-mail
# addresses. Digits or letters right before or after mean it is part of something longer (an order
# number, a URL); that is left alone.
_MOBILE = re.compile(r"(?<![\dA-Za-z])(?:\+?86[ -]?)?1[3-9]\d(?:[ -]?\d){8}(?![\dA-Za-z])")
_LANDLINE = re.compile(r"(?<![\dA-Za-z])0\d{2,3}[ -]\d{7,8}(?![\dA-Za-z])")
_RESIDENT_ID = re.compile(r"(?<![\dA-Za-z])\d{17}[\dXx](?![\dA-Za-z])")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")


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


def redact_free_text(text: str) -> str:
    """Mask phone numbers, resident ID numbers and e-mail addresses inside free text.

    For text that leaves the service to anyone (Open311 reads publish a report's description): a
    citizen often writes "请联系 13812341234" into the description itself. Phones are masked as
    `mask_phone` masks them, ID numbers keep only their last 4 characters, e-mail addresses their
    first character and domain. The stored report keeps what was written.
    """
    text = _RESIDENT_ID.sub(lambda m: "*" * 14 + m.group(0)[-4:], text)
    text = _MOBILE.sub(lambda m: mask_phone(m.group(0)), text)
    text = _LANDLINE.sub(lambda m: mask_phone(m.group(0)), text)
    return _EMAIL.sub(lambda m: m.group(0)[0] + "***@" + m.group(0).split("@", 1)[1], text)


def free_text_for(user: User, text: str) -> str:
    """A report's free text as `user` may read it: as written for the roles that see contact data in
    full, with contact details masked (`redact_free_text`) for everyone else — otherwise a number the
    citizen typed into the description would bypass the masking of the contact fields."""
    return text if contact_visibility(user.role) == "full" else redact_free_text(text)


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
