"""One design for every calendar feed URL: the meetings feed and a squad's patrol feed take secret
tokens from the same table and service, stored hashed, revocable, and refuse an unknown, revoked or
other feed's token with the same answer: 403 `feed_token_invalid` (no password challenge)."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from coordinator.feedtokens import services as feedtokens
from coordinator.feedtokens.models import FeedToken
from tests.factories import bearer, make_squad, make_token, make_user

MEETINGS = "/api/v1/meetings/calendar.ics"


def squad_feed(code: str) -> str:
    return f"/api/v1/squads/{code}/calendar.ics"


def assert_refused(response: object) -> None:
    """The one answer to a bad feed token."""
    assert response.status_code == 403  # type: ignore[attr-defined]
    assert response.get_json()["error"]["code"] == "feed_token_invalid"  # type: ignore[attr-defined]
    assert "WWW-Authenticate" not in response.headers  # type: ignore[attr-defined]


def test_both_feeds_share_one_token_design_and_one_answer_to_a_bad_token(
    client: FlaskClient, session: Session
) -> None:
    admin = bearer(make_token(session, make_user(session, "admin")))
    member = bearer(make_token(session, make_user(session, "squad_member")))
    one, other = make_squad(session, district="310120"), make_squad(session, district="310116")
    session.commit()

    meetings = client.post("/api/v1/meetings/feed-tokens", json={"label": "委员会"}, headers=admin).get_json()
    issued = client.post(f"/api/v1/squads/{one.code}/calendar-token", headers=admin)
    assert issued.status_code == 201
    squad = issued.get_json()
    assert meetings["token"].startswith("jjcal_") and squad["token"].startswith("jjcal_")

    # each opens its own feed, without any other credentials
    assert client.get(f"{MEETINGS}?token={meetings['token']}").status_code == 200
    assert client.get(f"{squad_feed(one.code)}?token={squad['token']}").status_code == 200
    # …and no other: another feed, another squad's feed
    assert_refused(client.get(f"{MEETINGS}?token={squad['token']}"))
    assert_refused(client.get(f"{squad_feed(one.code)}?token={meetings['token']}"))
    assert_refused(client.get(f"{squad_feed(other.code)}?token={squad['token']}"))
    # a guessed or malformed token: the same answer on both feeds
    for guess in ("jjcal_guess", "nonsense", "jjcal_" + "x" * 190):
        assert_refused(client.get(f"{MEETINGS}?token={guess}"))
        assert_refused(client.get(f"{squad_feed(one.code)}?token={guess}"))
    # no credentials at all: the API's 401; staff with a bearer token read both feeds
    for url in (MEETINGS, squad_feed(one.code)):
        assert client.get(url).status_code == 401
        assert client.get(url, headers=member).status_code == 200

    # only hashes are stored, in one table
    rows = list(session.scalars(select(FeedToken).order_by(FeedToken.id)))
    assert [(r.feed, r.squad_id) for r in rows] == [("meetings", None), ("squad", one.id)]
    for row, token in zip(rows, (meetings["token"], squad["token"]), strict=True):
        assert row.token_hash == feedtokens.hash_token(token) and token not in row.prefix

    # a new squad URL revokes the old one; revoking ends each URL with the same answer
    renewed = client.post(f"/api/v1/squads/{one.code}/calendar-token", headers=admin).get_json()
    assert_refused(client.get(f"{squad_feed(one.code)}?token={squad['token']}"))
    assert client.get(f"{squad_feed(one.code)}?token={renewed['token']}").status_code == 200
    revoked = client.delete(f"/api/v1/squads/{one.code}/calendar-token", headers=admin)
    assert revoked.get_json()["revoked"] == 1
    assert_refused(client.get(f"{squad_feed(one.code)}?token={renewed['token']}"))
    revoke = client.post(f"/api/v1/meetings/feed-tokens/{meetings['id']}/revoke", headers=admin)
    assert revoke.status_code == 200 and revoke.get_json()["revoked_at"] is not None
    assert_refused(client.get(f"{MEETINGS}?token={meetings['token']}"))
    # a squad token is no meetings token for the meetings token API either
    wrong = client.post(f"/api/v1/meetings/feed-tokens/{rows[1].id}/revoke", headers=admin)
    assert wrong.status_code == 404
