"""Personal contact data: masking, who sees what, and the append-only audit of unmasked reads."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from coordinator.auth.models import ContactAccessLog
from coordinator.permissions import contact_visibility
from coordinator.privacy import (
    Contact,
    mask_name,
    mask_phone,
    present_contact,
    redact_free_text,
    show_contact,
)
from tests.factories import bearer, make_token, make_user

CONTACT = Contact(name="张三丰", phone="13812341234")


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("13812341234", "138****1234"),
        ("+86 138-1234-1234", "138****1234"),
        ("021-57123456", "021****3456"),
        ("12345", "***45"),
        ("", ""),
    ],
)
def test_mask_phone(raw: str, masked: str) -> None:
    assert mask_phone(raw) == masked


@pytest.mark.parametrize(
    ("text", "redacted"),
    [
        ("请联系 13812341234 王先生", "请联系 138****1234 王先生"),
        ("电话+86 138-1234-5678。", "电话138****5678。"),
        ("号码 138 1234 5678", "号码 138****5678"),
        ("座机021-57123456", "座机021****3456"),
        ("身份证310101199001011234号", "身份证**************1234号"),
        ("身份证 31010119900101123X", "身份证 **************123X"),
        ("联系wang.xm@example.com.cn 谢谢", "联系w***@example.com.cn 谢谢"),
        # glued to letters it is still a phone number (issue 17 item 4); a hotline, an amount: left alone
        ("订单号A13812341234B", "订单号A138****1234B"),
        ("已打12345热线", "已打12345热线"),
        ("罚款 1381234123456 元", "罚款 1381234123456 元"),
        ("沟渠边有人倾倒建筑垃圾", "沟渠边有人倾倒建筑垃圾"),
    ],
)
def test_redact_free_text(text: str, redacted: str) -> None:
    assert redact_free_text(text) == redacted


def test_mask_name() -> None:
    assert mask_name("张三丰") == "张**"
    assert mask_name("Li Lei") == "L*****"
    assert mask_name("王") == "*"


@pytest.mark.parametrize(
    ("role", "visibility"),
    [
        ("dispatcher", "full"),
        ("admin", "full"),
        ("squad_leader", "masked"),
        ("squad_member", "masked"),
        ("committee", "absent"),
        ("reporter", "absent"),
    ],
)
def test_visibility_by_role(role: str, visibility: str) -> None:
    assert contact_visibility(role) == visibility
    assert contact_visibility(role, export=True) == "absent"  # exports never carry contact data


def test_present_contact() -> None:
    assert present_contact(CONTACT, "full") == {"name": "张三丰", "phone": "13812341234"}
    assert present_contact(CONTACT, "masked") == {"name": "张**", "phone": "138****1234"}
    assert present_contact(CONTACT, "absent") is None


def audit_count(session: Session) -> int:
    return len(session.scalars(select(ContactAccessLog)).all())


def test_only_unmasked_reads_are_audited(session: Session) -> None:
    before = audit_count(session)
    dispatcher = make_user(session, "dispatcher", district="310120")
    leader = make_user(session, "squad_leader")
    committee = make_user(session, "committee")
    kw = {"subject_type": "report", "subject_id": 42, "purpose": "call back"}
    assert show_contact(session, dispatcher, CONTACT, **kw) == {"name": "张三丰", "phone": "13812341234"}
    assert show_contact(session, leader, CONTACT, **kw) == {"name": "张**", "phone": "138****1234"}
    assert show_contact(session, committee, CONTACT, **kw) is None
    assert show_contact(session, dispatcher, CONTACT, export=True, **kw) is None
    rows = session.scalars(select(ContactAccessLog).order_by(ContactAccessLog.id.desc())).all()
    assert audit_count(session) == before + 1
    assert (rows[0].username, rows[0].role, rows[0].subject_id, rows[0].fields) == (
        dispatcher.username,
        "dispatcher",
        "42",
        "name,phone",
    )


def test_audit_rows_cannot_be_changed_or_deleted(session: Session) -> None:
    admin = make_user(session, "admin")
    show_contact(session, admin, CONTACT, subject_type="report", subject_id=7)
    session.flush()
    for statement in (
        "UPDATE contact_access_log SET username = 'someone else'",
        "DELETE FROM contact_access_log",
    ):
        with pytest.raises(DBAPIError, match="append-only"), session.begin_nested():
            session.execute(text(statement))
    assert session.scalars(select(ContactAccessLog.username)).all()[-1] == admin.username


def test_admin_reads_the_audit(client: FlaskClient, session: Session) -> None:
    admin = make_user(session, "admin")
    show_contact(session, admin, CONTACT, subject_type="report", subject_id="JJ-1", purpose="verify")
    token = make_token(session, admin)
    session.commit()
    reads = client.get("/api/v1/audit/contact-reads?subject_id=JJ-1", headers=bearer(token)).get_json()[
        "reads"
    ]
    assert [(r["username"], r["fields"], r["purpose"]) for r in reads] == [
        (admin.username, ["name", "phone"], "verify")
    ]


@pytest.mark.parametrize(
    ("text", "redacted"),
    [
        # issue 17 item 4: the forms that reached the public Open311 feed unmasked
        ("电话１３８１２３４１２３４", "电话138****1234"),  # full-width digits
        ("座机(021)12345678", "座机021****5678"),
        ("座机（021）12345678", "座机021****5678"),  # full-width brackets
        ("座机02112345678", "座机021****5678"),
        ("手机138.1234.1234", "手机138****1234"),
        ("手机 138 1234 1234 ", "手机 138****1234 "),
        ("手机1\u200b3\u200b8\u200b1234\u200c1234", "手机138****1234"),  # zero-width spaces
        ("tel13812341234谢谢", "tel138****1234谢谢"),
        ("call13812341234now", "call138****1234now"),
        ("+８６ 138-1234-1234", "138****1234"),
        ("身份证３１０１０１１９９００１０１１２３４", "身份证**************1234"),
        ("身份证 310101 19900101 123X", "身份证 **************123X"),
        ("邮箱ｗａｎｇ＠ｅｘａｍｐｌｅ．ｃｏｍ", "邮箱w***@example.com"),
        # still left alone: longer numbers, short hotlines
        ("罚款 1381234123456 元", "罚款 1381234123456 元"),
        ("已打１２３４５热线", "已打１２３４５热线"),  # as written
    ],
)
def test_redact_free_text_normalises_before_matching(text: str, redacted: str) -> None:
    assert redact_free_text(text) == redacted
