"""`flask users …` and `flask seed demo`."""

from __future__ import annotations

from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coordinator.auth.models import User
from coordinator.hotspots.models import Hotspot
from coordinator.squads.models import Squad
from tests.factories import bearer, make_squad


def last_line(output: str) -> str:
    return output.strip().splitlines()[-1]


def test_create_prints_a_working_token_last(
    cli: FlaskCliRunner, client: FlaskClient, session: Session
) -> None:
    squad = make_squad(session, district="310116")
    session.commit()
    result = cli.invoke(
        args=["users", "create", "--username", "lead_js", "--role", "squad_leader", "--squad", squad.code]
    )
    assert result.exit_code == 0, result.output
    assert "password:" in result.output  # generated, shown once
    token = last_line(result.output)
    assert token.startswith("jj_")
    me = client.get("/api/v1/me", headers=bearer(token)).get_json()
    assert (me["username"], me["role"], me["squad"]["code"]) == ("lead_js", "squad_leader", squad.code)


def test_create_rejects_a_squad_leader_without_squad(cli: FlaskCliRunner, session: Session) -> None:
    result = cli.invoke(args=["users", "create", "--username", "lonely", "--role", "squad_leader"])
    assert result.exit_code != 0
    assert "needs --squad" in result.output
    assert session.scalars(select(User).where(User.username == "lonely")).one_or_none() is None


def test_token_only_account_and_new_token(cli: FlaskCliRunner, client: FlaskClient) -> None:
    created = cli.invoke(
        args=["users", "create", "--username", "cam_gw", "--role", "reporter", "--no-password"]
    )
    assert created.exit_code == 0 and "no password" in created.output and "generated" not in created.output
    again = cli.invoke(args=["users", "token", "cam_gw", "--days", "7"])
    assert again.exit_code == 0, again.output
    first, second = last_line(created.output), last_line(again.output)
    assert first != second
    for token in (first, second):
        assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200


def test_revoke_makes_tokens_fail(cli: FlaskCliRunner, client: FlaskClient) -> None:
    result = cli.invoke(args=["users", "create", "--username", "disp_all", "--role", "dispatcher"])
    token = last_line(result.output)
    assert "alliance-wide" in result.output
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200
    revoked = cli.invoke(args=["users", "revoke", "disp_all"])
    assert revoked.exit_code == 0 and "revoked 1 token(s)" in revoked.output
    response = client.get("/api/v1/me", headers=bearer(token))
    assert response.status_code == 401 and response.get_json()["error"]["code"] == "unauthorized"


def test_revoke_one_token_by_prefix_and_list(cli: FlaskCliRunner, client: FlaskClient) -> None:
    keep = last_line(cli.invoke(args=["users", "create", "--username", "adm2", "--role", "admin"]).output)
    drop = last_line(cli.invoke(args=["users", "token", "adm2"]).output)
    assert cli.invoke(args=["users", "revoke", "--token", drop[:10]]).exit_code == 0
    assert client.get("/api/v1/me", headers=bearer(drop)).status_code == 401
    assert client.get("/api/v1/me", headers=bearer(keep)).status_code == 200
    listing = cli.invoke(args=["users", "list"]).output
    assert keep[:10] in listing and drop[:10] not in listing and keep not in listing


def test_seed_demo_is_idempotent_and_shows_passwords_once(
    cli: FlaskCliRunner, client: FlaskClient, session: Session
) -> None:
    # A small caseload: the CLI path is what is tested here (tests/cases/test_demo_caseload.py tests
    # the caseload itself); the default 3,000 reports took minutes of the suite on PostgreSQL.
    first = cli.invoke(args=["seed", "demo", "--reports", "100"])
    assert first.exit_code == 0, first.output
    assert "近似 approximate" in first.output
    assert "synthetic caseload (合成演示数据): 100 reports" in first.output
    assert "demo meeting series ALLIANCE: " in first.output  # at least December's meeting is planned
    assert "demo compound 【演示】柘林海湾花苑 (town 310120118): managed by demo_property" in first.output
    rows = [line.split("\t") for line in first.output.splitlines() if line.startswith("demo_")]
    assert {r[1] for r in rows} == {
        "squad_leader",
        "squad_member",
        "dispatcher",
        "committee",
        "admin",
        "reporter",
        "property_manager",
    }
    for username, role, _password, token in rows:
        me = client.get("/api/v1/me", headers=bearer(token)).get_json()
        assert (me["username"], me["role"]) == (username, role)
    counts = (session.scalar(select(func.count(Squad.id))), session.scalar(select(func.count(User.id))))
    assert counts[0] is not None and counts[0] >= 75
    # The demo hotspots are there, and so is everything seeded before them in the same transaction.
    assert session.scalar(select(func.count(Hotspot.id))) >= 5
    leader = session.scalars(select(User).where(User.username == "demo_leader")).one()
    assert session.get_one(Squad, leader.squad_id).code == "SQ-310120118"

    second = cli.invoke(args=["seed", "demo", "--reports", "100"])
    assert second.exit_code == 0, second.output
    assert "credentials not shown again" in second.output
    assert "synthetic caseload: already there" in second.output
    assert "demo meeting series: already there" in second.output
    assert "demo compound 【演示】柘林海湾花苑: already there" in second.output
    assert not any(line.startswith("demo_") for line in second.output.splitlines())
    assert all(password not in second.output for _, _, password, _ in rows)
    assert (
        session.scalar(select(func.count(Squad.id))),
        session.scalar(select(func.count(User.id))),
    ) == counts
