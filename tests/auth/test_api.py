"""The caller (/me), browser sessions with CSRF, users and the audit endpoint."""

from __future__ import annotations

from datetime import timedelta

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from coordinator.auth import services
from coordinator.auth.models import LoginFailure
from coordinator.db import utcnow
from tests.factories import PASSWORD, bearer, make_squad, make_token, make_user


def test_me_with_a_token(client: FlaskClient, session: Session) -> None:
    squad = make_squad(session, district="310116")
    user = make_user(session, "squad_leader", squad=squad)
    token = make_token(session, user)
    session.commit()
    body = client.get("/api/v1/me", headers=bearer(token)).get_json()
    assert body["username"] == user.username and body["role"] == "squad_leader"
    assert body["squad"]["code"] == squad.code and body["district"] == "310116"
    assert body["authenticated_via"] == "token" and body["token_prefix"] == token[:10]
    assert body["csrf_token"] is None and body["contact_visibility"] == "masked"
    assert "squads.list_squads" in body["endpoints"] and "squads.update_squad" not in body["endpoints"]


def login(client: FlaskClient, username: str, password: str = PASSWORD) -> str:
    response = client.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.get_json()
    csrf: str = response.get_json()["csrf_token"]
    return csrf


def test_session_login_me_and_logout(client: FlaskClient, session: Session) -> None:
    user = make_user(session, "dispatcher", district="310120")
    session.commit()
    csrf = login(client, user.username)
    me = client.get("/api/v1/me").get_json()
    assert me["authenticated_via"] == "session" and me["csrf_token"] == csrf
    assert client.post("/api/v1/auth/logout").status_code == 403  # no CSRF header
    assert client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
    assert client.get("/api/v1/me").status_code == 401


def test_wrong_password_is_401(client: FlaskClient, session: Session) -> None:
    user = make_user(session, "admin")
    session.commit()
    response = client.post("/api/v1/auth/login", json={"username": user.username, "password": "nope"})
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"


def attempt(client: FlaskClient, username: str, password: str) -> TestResponse:
    return client.post("/api/v1/auth/login", json={"username": username, "password": password})


def test_wrong_passwords_throttle_the_username_even_for_the_right_password(
    client: FlaskClient, session: Session
) -> None:
    user = make_user(session, "admin")
    session.commit()
    for _ in range(5):
        assert attempt(client, user.username, "nope").status_code == 401
    refused = attempt(client, user.username, PASSWORD)
    assert refused.status_code == 429
    assert refused.get_json()["error"]["code"] == "too_many_requests"
    assert 0 < int(refused.headers["Retry-After"]) <= 15 * 60
    assert refused.get_json()["error"]["details"] == {"retry_after_s": int(refused.headers["Retry-After"])}
    # the same counter whatever the case of the name; other usernames are not affected
    assert attempt(client, user.username.upper(), PASSWORD).status_code == 429
    other = make_user(session, "admin")
    session.commit()
    login(client, other.username)


def test_failures_out_of_the_window_do_not_count_and_a_success_starts_over(
    client: FlaskClient, session: Session
) -> None:
    user = make_user(session, "dispatcher", district="310120")
    stale = utcnow() - timedelta(minutes=16)
    session.add_all(LoginFailure(username=user.username.lower(), at=stale) for _ in range(5))
    session.commit()
    login(client, user.username)
    assert session.scalar(select(func.count()).select_from(LoginFailure)) == 0  # cleared by the success
    for _ in range(4):
        assert attempt(client, user.username, "nope").status_code == 401
    login(client, user.username)
    for _ in range(4):
        assert attempt(client, user.username, "nope").status_code == 401
    assert attempt(client, user.username, "nope").status_code == 401  # the 5th failure still answers 401
    assert attempt(client, user.username, PASSWORD).status_code == 429


def test_unknown_usernames_are_throttled_like_known_ones(client: FlaskClient) -> None:
    for _ in range(5):
        assert attempt(client, "nobody-here", "guess-guess").status_code == 401
    assert attempt(client, "nobody-here", "guess-guess").status_code == 429


def test_retry_after_counts_down_from_the_oldest_failure_in_the_window(session: Session) -> None:
    throttle = services.LoginThrottle(max_failures=3, window=timedelta(minutes=10))
    now = utcnow()
    for minutes_ago in (9, 5, 1):
        services.record_login_failure(session, "Wang", throttle, now=now - timedelta(minutes=minutes_ago))
    assert services.login_retry_after(session, "wang", throttle, now=now) == 60
    assert services.login_retry_after(session, "wang", throttle, now=now + timedelta(minutes=1)) is None
    # a new failure forgets every failure that left the window, whatever its username
    services.record_login_failure(session, "li", throttle, now=now - timedelta(minutes=30))
    services.record_login_failure(session, "wang", throttle, now=now + timedelta(minutes=6))
    left = session.scalars(select(LoginFailure.username)).all()
    assert sorted(left) == ["wang", "wang"]


def test_session_writes_need_the_csrf_token_bearer_writes_do_not(
    client: FlaskClient, session: Session
) -> None:
    squad = make_squad(session, district="310120")
    user = make_user(session, "dispatcher", district="310120")
    token = make_token(session, user)
    session.commit()
    url = f"/api/v1/squads/{squad.code}"
    csrf = login(client, user.username)
    refused = client.patch(url, json={"night_capacity": 3})
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "csrf_failed"
    assert (
        client.patch(url, json={"night_capacity": 3}, headers={"X-CSRF-Token": "forged"}).status_code == 403
    )
    ok = client.patch(url, json={"night_capacity": 3}, headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 200 and ok.get_json()["properties"]["night_capacity"] == 3
    fresh = client.application.test_client()  # no cookie: a pure API client
    assert fresh.patch(url, json={"night_capacity": 4}, headers=bearer(token)).status_code == 200


def test_password_change_and_deactivation_end_sessions(client: FlaskClient, session: Session) -> None:
    user = make_user(session, "committee")
    session.commit()
    login(client, user.username)
    assert client.get("/api/v1/me").status_code == 200
    services.set_password(user, "a new long password")
    session.commit()
    assert client.get("/api/v1/me").status_code == 401
    login(client, user.username, "a new long password")
    user.active = False
    session.commit()
    assert client.get("/api/v1/me").status_code == 401


def test_users_list_for_dispatchers(client: FlaskClient, session: Session) -> None:
    dispatcher = make_user(session, "dispatcher", district="310117")
    make_user(session, "squad_member", squad=make_squad(session, district="310117"))
    token = make_token(session, dispatcher)
    session.commit()
    body = client.get("/api/v1/users?district=310117", headers=bearer(token)).get_json()
    assert {u["role"] for u in body["users"]} >= {"dispatcher", "squad_member"}
    assert all(u["district"] == "310117" for u in body["users"])
    assert all("password" not in str(u) for u in body["users"])
