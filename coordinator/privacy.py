"""Personal contact data (a reporter's name and phone): masking and the one way to show it.

`show_contact` is what every view or export that carries contact data calls: it asks the policy how
much the caller's role may see (full / masked / absent), masks accordingly, and appends an audit record
whenever unmasked data leaves the service.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy.orm import Session

from coordinator.auth.models import User
from coordinator.auth.services import record_contact_read
from coordinator.permissions import Visibility, contact_visibility, contact_visibility_for

_DIGITS = re.compile(r"\d")
# Personal data people type into a report's free text: mainland mobile numbers, landlines with an area
# code, 18-character resident ID numbers, e-mail addresses. The text is normalised first (NFKC: full-width
# digits and ＠ become ASCII; zero-width and soft-hyphen characters removed), and a number may be written
# with spaces, dots, hyphens or middle dots between its digits, or glued to letters ("tel13812341234").
# Only digits right before or after mean it is part of a longer number (an amount); that is left alone.
_INVISIBLE = re.compile("[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
_SEP = r"[ .\-·]?"
_MOBILE = re.compile(rf"(?<!\d)(?:\+?86{_SEP})?1{_SEP}[3-9](?:{_SEP}\d){{9}}(?!\d)")
_LANDLINE = re.compile(rf"(?<!\d)(?:\(0\d{{2,3}}\)|0\d{{2,3}}){_SEP}[1-9](?:{_SEP}\d){{6,7}}(?!\d)")
_RESIDENT_ID = re.compile(rf"(?<!\d)[1-9](?:{_SEP}\d){{16}}{_SEP}[\dXx](?![\dXx])")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")


def normalise_text(text: str) -> str:
    """NFKC with invisible characters removed: the form contact details are looked for in."""
    return _INVISIBLE.sub("", unicodedata.normalize("NFKC", text))


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


def _normalised_with_positions(text: str) -> tuple[str, list[int]]:
    """`normalise_text(text)` and, for each of its characters, the index of the character of `text` it
    came from (so a match in the normalised text names a span of the text as written)."""
    chars: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        if _INVISIBLE.match(char):
            continue
        for folded in unicodedata.normalize("NFKC", char):
            chars.append(folded)
            origin.append(index)
    return "".join(chars), origin


def _mask_id(number: str) -> str:
    return "*" * 14 + re.sub(r"[^\dXx]", "", number)[-4:]


def _mask_email(address: str) -> str:
    return address[0] + "***@" + address.split("@", 1)[1]


_MASKS = ((_RESIDENT_ID, _mask_id), (_MOBILE, mask_phone), (_LANDLINE, mask_phone), (_EMAIL, _mask_email))


def redact_free_text(text: str) -> str:
    """Mask phone numbers, resident ID numbers and e-mail addresses inside free text.

    For text that leaves the service to anyone (Open311 reads publish a report's description): a
    citizen often writes "请联系 13812341234" into the description itself. Phones are masked as
    `mask_phone` masks them, ID numbers keep only their last 4 characters, e-mail addresses their
    first character and domain. Matching runs on the normalised text (`normalise_text`: full-width
    digits, zero-width characters); only the matched spans are replaced, the rest stays as written
    (Chinese punctuation included). The stored report keeps what was written.
    """
    normalised, origin = _normalised_with_positions(text)
    spans: list[tuple[int, int, str]] = []
    for pattern, mask in _MASKS:
        for match in pattern.finditer(normalised):
            first, last = origin[match.start()], origin[match.end() - 1] + 1
            if any(first < end and start < last for start, end, _ in spans):
                continue  # inside what an earlier pattern masked
            spans.append((first, last, mask(match.group(0))))
    for first, last, masked in sorted(spans, reverse=True):
        text = text[:first] + masked + text[last:]
    return text


def has_contact_details(text: str) -> bool:
    """Whether free text holds something `redact_free_text` masks."""
    return redact_free_text(text) != text


def free_text_for(
    session: Session,
    user: User,
    text: str,
    *,
    districts: Collection[str | None] = (),
    subject_type: str = "report",
    subject_id: str | int = "",
    purpose: str = "",
) -> str:
    """A report's free text as `user` may read it: as written for whoever sees the case's contact data
    in full (the case's own district(s), the alliance desk, admins) — and then, if it holds contact
    details, that read is audited like the reporter fields' — with contact details masked
    (`redact_free_text`) for everyone else; otherwise a number the citizen typed into the description
    would bypass the masking of the contact fields."""
    if contact_visibility_for(user, districts) != "full":
        return redact_free_text(text)
    if has_contact_details(text):
        record_contact_read(
            session,
            user,
            subject_type=subject_type,
            subject_id=subject_id,
            fields=["description"],
            purpose=purpose,
        )
    return text


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
    districts: Collection[str | None] | None = None,
) -> dict[str, str | None] | None:
    """Contact data for `user`, masked or left out by role and, given the case's `districts`, by scope
    (coordinator.permissions.contact_visibility_for); unmasked reads are audited and the answer is
    marked not to be cached (coordinator.security.no_store)."""
    visibility = (
        contact_visibility(user.role, export=export)
        if districts is None or export
        else contact_visibility_for(user, districts)
    )
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
