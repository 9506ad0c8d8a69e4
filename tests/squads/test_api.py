"""GET /api/v1/squads (jurisdictions as GeoJSON, approximate visible), one squad, PATCH by dispatchers."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from tests.factories import bearer, make_area, make_squad, make_token, make_user


def token_for(session: Session, role: str, **kw: object) -> str:
    token = make_token(session, make_user(session, role, **kw))  # type: ignore[arg-type]
    session.commit()
    return token


def test_squads_with_approximate_jurisdictions(client: FlaskClient, demo_territory: Session) -> None:
    token = token_for(demo_territory, "committee")
    body = client.get("/api/v1/squads?district=310120", headers=bearer(token)).get_json()
    assert body["type"] == "FeatureCollection" and len(body["features"]) >= 5
    zhelin = next(f for f in body["features"] if f["id"] == "SQ-310120118")
    props = zhelin["properties"]
    assert props["name"] == "柘林中队" and props["district"] == {"code": "310120", "name": "奉贤区"}
    assert props["approximate"] is True
    assert (
        props["jurisdiction"]["approximate"] is True and props["jurisdiction"]["label"] == "近似 approximate"
    )
    assert "近似" in props["jurisdiction"]["name"]
    assert zhelin["geometry"]["type"] == "MultiPolygon"
    bare = client.get("/api/v1/squads?district=310120&geometry=false", headers=bearer(token)).get_json()
    assert all(f["geometry"] is None for f in bare["features"])


def test_official_jurisdiction_is_not_labelled_approximate(client: FlaskClient, session: Session) -> None:
    squad = make_squad(session, jurisdiction=make_area(session).code)
    token = token_for(session, "squad_member")
    feature = client.get(f"/api/v1/squads/{squad.code}", headers=bearer(token)).get_json()
    assert feature["properties"]["approximate"] is False
    assert feature["properties"]["jurisdiction"]["label"] is None


def test_unknown_squad_is_404(client: FlaskClient, session: Session) -> None:
    token = token_for(session, "admin")
    response = client.get("/api/v1/squads/NOPE", headers=bearer(token))
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"


def test_dispatcher_changes_only_their_districts_squads(client: FlaskClient, session: Session) -> None:
    fengxian = make_squad(session, district="310120")
    jinshan = make_squad(session, district="310116")
    token = token_for(session, "dispatcher", district="310120")
    ok = client.patch(
        f"/api/v1/squads/{fengxian.code}",
        json={"active": False, "categories": ["01-01"]},
        headers=bearer(token),
    )
    assert ok.status_code == 200
    assert (ok.get_json()["properties"]["active"], ok.get_json()["properties"]["categories"]) == (
        False,
        ["01-01"],
    )
    other = client.patch(f"/api/v1/squads/{jinshan.code}", json={"active": False}, headers=bearer(token))
    assert other.status_code == 403 and other.get_json()["error"]["details"]["district"] == "310116"
    alliance = token_for(session, "dispatcher")
    assert (
        client.patch(
            f"/api/v1/squads/{jinshan.code}", json={"night_capacity": 1}, headers=bearer(alliance)
        ).status_code
        == 200
    )
    bad = client.patch(f"/api/v1/squads/{jinshan.code}", json={"night_capacity": 8}, headers=bearer(alliance))
    assert bad.status_code == 422


def test_dispatch_units(client: FlaskClient, demo_territory: Session) -> None:
    token = token_for(demo_territory, "squad_leader")
    units = client.get("/api/v1/dispatch-units", headers=bearer(token)).get_json()["dispatch_units"]
    assert {u["code"] for u in units} == {"DU-310115", "DU-310116", "DU-310117", "DU-310120", "DU-ALLIANCE"}
    assert next(u for u in units if u["code"] == "DU-ALLIANCE")["level"] == "alliance"
