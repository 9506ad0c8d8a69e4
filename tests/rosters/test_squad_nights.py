"""What a squad tells the roster about its nights: unavailable periods and weekday preferences, set by
its leader or its district's dispatcher, read by every staff role, and read into the roster problem."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from coordinator.rosters.context import build_problem
from coordinator.squads.services import get_squad
from coordinator.worktime.services import load_calendar
from tests.factories import bearer, make_token, make_user
from tests.rosters.conftest import START

ZHELIN = "SQ-310120118"  # 柘林中队 (Fengxian)
CAOJING = "SQ-310116112"  # 漕泾中队 (Jinshan)


def test_unavailable_nights_are_kept_listed_and_removed(
    client: FlaskClient, session: Session, dispatcher_token: str
) -> None:
    leader = make_token(session, make_user(session, "squad_leader", squad=get_squad(session, ZHELIN)))
    other = make_token(session, make_user(session, "squad_leader", squad=get_squad(session, CAOJING)))
    committee = make_token(session, make_user(session, "committee"))
    session.commit()
    url = f"/api/v1/squads/{ZHELIN}/unavailability"
    leave = {"start_date": START.isoformat(), "end_date": (START + timedelta(days=2)).isoformat()}
    added = client.post(url, json={**leave, "reason": "集中整训"}, headers=bearer(leader))
    assert added.status_code == 201
    row = added.get_json()
    assert (row["squad"], row["reason"], row["end_date"]) == (ZHELIN, "集中整训", leave["end_date"])
    # The dispatcher of the squad's district may too; the leader of another squad may not.
    later = {
        "start_date": (START + timedelta(days=9)).isoformat(),
        "end_date": (START + timedelta(days=9)).isoformat(),
    }
    assert client.post(url, json=later, headers=bearer(dispatcher_token)).status_code == 201
    assert client.post(url, json=later, headers=bearer(other)).status_code == 403
    backwards = {"start_date": leave["end_date"], "end_date": leave["start_date"]}
    assert client.post(url, json=backwards, headers=bearer(leader)).status_code == 422

    listed = client.get(url, headers=bearer(committee)).get_json()["unavailability"]
    assert [(u["start_date"], u["end_date"]) for u in listed] == [
        (leave["start_date"], leave["end_date"]),
        (later["start_date"], later["end_date"]),
    ]
    # The roster problem sees nights 0–2 and 9 as nights the squad cannot patrol.
    problem = build_problem(session, START, 2, calendar=load_calendar(session), now=datetime.now(UTC)).problem
    spec = next(s for s in problem.squads if s.code == ZHELIN)
    assert spec.unavailable == frozenset({0, 1, 2, 9})

    removed = client.delete(f"{url}/{row['id']}", headers=bearer(leader))
    assert removed.status_code == 200
    assert [u["start_date"] for u in removed.get_json()["unavailability"]] == [later["start_date"]]
    assert client.delete(f"{url}/{row['id']}", headers=bearer(leader)).status_code == 404
    elsewhere = client.delete(
        f"/api/v1/squads/{CAOJING}/unavailability/{listed[1]['id']}", headers=bearer(dispatcher_token)
    )
    assert elsewhere.status_code == 403  # a Jinshan squad: not the Fengxian dispatcher's


def test_weekday_preferences_replace_the_previous_ones(
    client: FlaskClient, session: Session, dispatcher_token: str
) -> None:
    leader = make_token(session, make_user(session, "squad_leader", squad=get_squad(session, ZHELIN)))
    member = make_token(session, make_user(session, "squad_member", squad=get_squad(session, ZHELIN)))
    session.commit()
    url = f"/api/v1/squads/{ZHELIN}/night-preferences"
    assert client.get(url, headers=bearer(member)).get_json() == {"squad": ZHELIN, "weekdays": {}}
    first = client.put(url, json={"weekdays": {"4": -2, "5": 0, "1": 2}}, headers=bearer(leader))
    assert first.status_code == 200
    assert first.get_json()["weekdays"] == {"1": 2, "4": -2}  # neutral days are not stored
    second = client.put(url, json={"weekdays": {"0": 1}}, headers=bearer(dispatcher_token))
    assert second.status_code == 200 and second.get_json()["weekdays"] == {"0": 1}
    assert client.put(url, json={"weekdays": {"0": 3}}, headers=bearer(leader)).status_code == 422
    assert client.put(url, json={"weekdays": {"7": 1}}, headers=bearer(leader)).status_code == 422
    assert client.put(url, json={"weekdays": {"0": 1}}, headers=bearer(member)).status_code == 403

    problem = build_problem(session, START, 1, calendar=load_calendar(session), now=datetime.now(UTC)).problem
    assert next(s for s in problem.squads if s.code == ZHELIN).preferences == {0: 1}
