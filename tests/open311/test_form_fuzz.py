"""Open311 POST requests.json/.xml with hand-written hypothesis strategies for their form encoding
(application/x-www-form-urlencoded: every value a string, fields repeated or missing, numbers written
the ways clients write them, and garbage). Whatever arrives, the answer is never a 5xx, and it is the
documented answer: 201 with the request list, or 400/401/403/404 in GeoReport's error list (the test
client checks every answer against the OpenAPI document, tests/contracts.py). Nothing is half-written:
a refused form leaves no report behind."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coordinator.cases.models import Report
from tests.open311.test_georeport import BASE

SERVICE_CODES = ["01-11", "05-51", "05-52", "01-01", "99-99", "", "01-11,05-51", "０１-１１"]
text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60)


def number_text(lo: float, hi: float) -> st.SearchStrategy[str]:
    """How clients write a coordinate: fixed or many decimals, exponent, spaces, comma decimal, junk."""
    value = st.floats(min_value=lo, max_value=hi, allow_nan=False)
    return st.one_of(
        value.map(lambda v: f"{v:.6f}"),
        value.map(repr),
        value.map(lambda v: f"{v:e}"),
        value.map(lambda v: f" {v:.5f} "),
        value.map(lambda v: f"{v:.4f}".replace(".", ",")),
        st.sampled_from(["", "NaN", "inf", "-0", "1e999", "0x1f", "31.0.1", "北纬31度"]),
        st.floats(allow_nan=True, allow_infinity=True).map(str),
        text,
    )


field_values: dict[str, st.SearchStrategy[str]] = {
    "service_code": st.one_of(st.sampled_from(SERVICE_CODES), text),
    "lat": st.one_of(number_text(30.7, 31.2), number_text(-90, 90), number_text(-1000, 1000)),
    "long": st.one_of(number_text(121.0, 121.9), number_text(-180, 180)),
    "address_string": text,
    "description": st.one_of(text, st.text(min_size=3990, max_size=4010)),
    "media_url": st.one_of(st.just("https://example.org/a.jpg"), st.just("javascript:alert(1)"), text),
    "email": text,
    "phone": st.one_of(st.just("+86 138 0000 0000"), text),
    "first_name": st.one_of(text, st.text(min_size=49, max_size=52)),
    "account_id": text,
    "crs": st.one_of(st.sampled_from(["wgs84", "gcj02", "bd09", "WGS84", "epsg:4326"]), text),
    "jurisdiction_id": text,
}
# Each field absent, once, or repeated (a form may carry a name twice).
forms = st.fixed_dictionaries(
    {},
    optional={name: st.lists(values, min_size=1, max_size=2) for name, values in field_values.items()},
)


@given(form=forms, with_key=st.booleans(), fmt=st.sampled_from(["json", "xml"]))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_form_gets_a_documented_answer_and_never_a_5xx(
    client: FlaskClient, api_key: str, session: Session, form: dict[str, list[str]], with_key: bool, fmt: str
) -> None:
    data: dict[str, Any] = dict(form)
    if with_key:
        data["api_key"] = api_key
    before = session.scalar(select(func.count()).select_from(Report))
    response = client.post(f"{BASE}/requests.{fmt}", data=data)
    assert response.status_code < 500, response.get_data(as_text=True)[:500]
    after = session.scalar(select(func.count()).select_from(Report))
    if response.status_code == 201:
        assert after == before + 1
    else:
        assert response.status_code in (400, 401, 403, 404, 422), response.status_code
        assert after == before  # nothing half-written
