"""Issue 17 items 6 and 7: browser sessions end on the server (logout, `users revoke`, deactivation), and
the admin inputs that were loose are checked (squad categories, case-folded usernames, token days)."""

from __future__ import annotations

from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy.orm import Session

from coordinator.auth import services
from coordinator.errors import Conflict
from tests.factories import PASSWORD, bearer, make_squad, make_token, make_user


def login(client: FlaskClient, username: str) -> str:
    response = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.get_json()
    csrf: str = response.get_json()["csrf_token"]
    return csrf


def copy_cookie(client: FlaskClient, app_client: FlaskClient) -> None:
    cookie = client.get_cookie("jiaojie_session")
    assert cookie is not None
    app_client.set_cookie("jiaojie_session", cookie.value)


def test_a_copied_session_cookie_stops_working_at_logout(client: FlaskClient, session: Session) -> None:
    user = make_user(session, "dispatcher")
    session.commit()
    csrf = login(client, user.username)
    thief = client.application.test_client()
    copy_cookie(client, thief)
    assert thief.get("/api/v1/me").status_code == 200
    assert client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
    assert thief.get("/api/v1/me").status_code == 401


def test_users_revoke_and_deactivate_end_browser_sessions(
    client: FlaskClient, cli: FlaskCliRunner, session: Session
) -> None:
    first, second = make_user(session, "dispatcher"), make_user(session, "admin")
    session.commit()
    login(client, first.username)
    other = client.application.test_client()
    login(other, second.username)
    assert cli.invoke(args=["users", "revoke", first.username]).exit_code == 0
    assert client.get("/api/v1/me").status_code == 401
    assert other.get("/api/v1/me").status_code == 200
    assert cli.invoke(args=["users", "revoke", second.username, "--deactivate"]).exit_code == 0
    assert other.get("/api/v1/me").status_code == 401


def test_unknown_or_huge_squad_categories_are_refused(client: FlaskClient, session: Session) -> None:
    squad = make_squad(session, district="310120")
    admin = make_token(session, make_user(session, "admin"))
    session.commit()
    path = f"/api/v1/squads/{squad.code}"
    unknown = client.patch(path, json={"categories": ["01-11", "99-99"]}, headers=bearer(admin))
    assert unknown.status_code == 422 and unknown.get_json()["error"]["code"] == "unknown_category"
    assert unknown.get_json()["error"]["details"] == {"unknown": ["99-99"]}
    huge = client.patch(path, json={"categories": ["x" * 100_000]}, headers=bearer(admin))
    assert huge.status_code == 422
    session.refresh(squad)
    assert "99-99" not in squad.categories
    ok = client.patch(path, json={"categories": ["01-11"]}, headers=bearer(admin))
    assert ok.status_code == 200, ok.get_json()


def test_usernames_differing_only_in_case_cannot_coexist(session: Session) -> None:
    make_user(session, "reporter", username="Zhang.Wei")
    try:
        make_user(session, "reporter", username="zhang.wei")
    except Conflict:
        pass
    else:
        raise AssertionError("a second zhang.wei was created")
    assert services.get_user(session, "ZHANG.WEI").username == "Zhang.Wei"


def test_a_token_of_zero_days_is_refused(cli: FlaskCliRunner, session: Session) -> None:
    user = make_user(session, "reporter")
    session.commit()
    result = cli.invoke(args=["users", "token", user.username, "--days", "0"])
    assert result.exit_code != 0 and "at least one day" in result.output
    assert services.live_tokens(session, user) == []
