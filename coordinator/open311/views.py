"""Open311 GeoReport v2 views: parse, call a service, serialize — and the spec's error list.

Errors under /open311/ are `[{"code": 403, "description": "…"}]` (the spec's shape, the one deviation
from ours), with 403 for a missing/invalid api_key, 404 for an unknown service_code or request and
413 for a body over the size limit, 429 (with Retry-After) over a rate limit, 400 for anything
else. `render_error` is registered for the whole prefix, so routing 404/405 and the policy hook's
answers follow it too.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import Blueprint, Flask, Response, jsonify, request
from pydantic import BaseModel
from werkzeug.datastructures import FileStorage

from coordinator.api import FilePart, ViewFunc, endpoint
from coordinator.cases.models import Category
from coordinator.cases.queries import list_categories
from coordinator.cases.views import IDEMPOTENCY_HEADER, current_calendar
from coordinator.errors import ValidationFailed, register_error_renderer
from coordinator.evidence import services as evidence
from coordinator.evidence.files import IMAGE_MEDIA_TYPES
from coordinator.evidence.presenters import evidence_url
from coordinator.extensions import db_session
from coordinator.geolocation.views import current_locator, needs_locator
from coordinator.open311 import services, xml
from coordinator.open311.schemas import (
    CreatedList,
    Discovery,
    JurisdictionParams,
    Open311Errors,
    RequestForm,
    RequestsQuery,
    ServiceDefinition,
    ServiceList,
    ServiceRequestList,
)
from coordinator.policy import authenticate_api_key
from coordinator.worktime import SHANGHAI

PREFIX = "/open311/v2"
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-01-01T00:00:00+08:00"  # bump when this endpoint's behaviour changes
TAGS = ("open311",)

bp = Blueprint("open311", __name__)
MEDIA_PART = FilePart(
    name="media",
    description="The spec's media upload: one photo (JPEG, PNG or WebP, checked by decoding it).",
    media_types=IMAGE_MEDIA_TYPES,
    max_items=1,
)


def open311_route(
    path: str, *, methods: tuple[str, ...] = ("GET",), response: type[BaseModel], **kwargs: Any
) -> Callable[[ViewFunc], ViewFunc]:
    """Declare a GeoReport v2 route at `path.json` and at `path.xml` (the spec's required format; the
    client picks by extension): two operations of one view, the XML one named `<view>_xml`, both
    answering the spec's error list (400 for invalid input) in their own format."""

    def decorate(fn: ViewFunc) -> ViewFunc:
        def declare(**media: Any) -> ViewFunc:
            return endpoint(
                tags=TAGS,
                error_model=Open311Errors,
                validation_status=400,
                response=response,
                **kwargs,
                **media,
            )(fn)

        as_json = declare()
        as_xml = declare(
            media_type=xml.XML,
            error_media_type=xml.XML,
            render=lambda data: Response(xml.render(response, data), mimetype=xml.XML),
        )
        bp.add_url_rule(f"{path}.json", fn.__name__, as_json, methods=list(methods))
        bp.add_url_rule(f"{path}.xml", f"{fn.__name__}_xml", as_xml, methods=list(methods))
        return fn

    return decorate


def _open311_status(status: int) -> int:
    if status in (401, 403):
        return 403
    # too large / not an image / too many: clients must see them as they are
    if status in (404, 405, 413, 415, 429) or status >= 500:
        return status
    return 400


def render_error(status: int, code: str, message: str, details: Any) -> Response:
    """The spec's error body: a list of {code, description}, one entry per invalid field; in XML
    (`<errors><error>…`) on the `.xml` routes."""
    http = _open311_status(status)
    errors = [{"code": http, "description": message}]
    if isinstance(details, list) and details and all(isinstance(d, dict) and "field" in d for d in details):
        errors = [{"code": http, "description": f"{d['field']}: {d['message']}"} for d in details]
    if request.path.endswith(".xml"):
        response = Response(xml.render(Open311Errors, errors), mimetype=xml.XML)
    else:
        response = jsonify(errors)
    response.status_code = http
    return response


@open311_route(
    "/discovery", summary="Open311 service discovery", query=JurisdictionParams, response=Discovery
)
def discovery(query: JurisdictionParams) -> dict[str, Any]:
    return {
        "changeset": CHANGESET,
        "contact": "交界协同 联盟调度台 (alliance dispatch desk)",
        "key_service": "api_key = an API token of a user allowed to report; ask a dispatcher or admin "
        "(flask users create --role reporter)",
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": request.host_url.rstrip("/") + PREFIX,
                "changeset": CHANGESET,
                "type": "production",
                "formats": [xml.XML, "application/json"],
            }
        ],
    }


def _service(category: Category) -> dict[str, Any]:
    return {
        "service_code": category.code,
        "service_name": category.name_zh,
        "description": category.description or category.name_en,
        "metadata": False,
        "type": "realtime",
        "keywords": category.name_en,
        "group": category.major_class,
    }


@open311_route(
    "/services",
    summary="Open311 services: our report categories",
    query=JurisdictionParams,
    response=ServiceList,
)
def list_services(query: JurisdictionParams) -> list[dict[str, Any]]:
    return [_service(c) for c in list_categories(db_session())]


@open311_route(
    "/services/<code>",
    summary="Open311 service definition (no extra attributes: metadata is false)",
    query=JurisdictionParams,
    response=ServiceDefinition,
    errors=(404,),
)
def get_service(code: str, query: JurisdictionParams) -> dict[str, Any]:
    category = services.get_service(db_session(), code)
    return {"service_code": category.code, "attributes": []}


@open311_route(
    "/requests",
    methods=("POST",),
    summary="Open311: submit a service request (form-encoded or multipart, api_key, lat/long required)",
    description="The request becomes a report through the same intake as POST /api/v1/reports: it "
    "opens a routed case or joins a nearby open one. `service_request_id` is the report id; "
    "`service_notice` carries the case number (JJ-YYYY-NNNNNN). Extension: `crs` (wgs84|gcj02|bd09). "
    "`api_key` is read from the form, or else from the query string. A photo comes as `media_url`, or "
    "as the spec's `media` file in a multipart/form-data body: checked by decoding it (415 if it is not "
    "a JPEG, PNG or WebP image, 413 over the size or pixel limit; nothing is stored then), stored "
    "without EXIF/GPS as the report's evidence, and named by `media_url` in the request's answers "
    "(`/api/v1/evidence/{id}`, for staff).",
    query=JurisdictionParams,
    form=RequestForm,
    file_parts=(MEDIA_PART,),
    response=CreatedList,
    errors=(400, 403, 404, 413, 415),
)
@needs_locator
def post_request(
    query: JurisdictionParams, form: RequestForm, uploads: dict[str, list[FileStorage]]
) -> list[dict[str, Any]]:
    session = db_session()
    user = authenticate_api_key(session, form.api_key or query.api_key)
    if form.service_code is None:
        raise ValidationFailed("service_code is required; see services.json")
    if form.lat is None or form.long is None:
        raise ValidationFailed(
            "lat and long are required: an address_string or address_id alone cannot be located here"
        )
    media = uploads[MEDIA_PART.name]
    if media and form.media_url:
        raise ValidationFailed("send the photo as media or as media_url, not both")
    # The photo is checked before the request is taken: a bad one refuses it, and nothing is stored.
    photos = evidence.prepare_uploads(media, limits=evidence.current_limits())
    result = services.submit_request(
        session,
        current_locator(),
        services.OpenRequest(
            service_code=form.service_code,
            lat=form.lat,
            long=form.long,
            crs=form.crs,
            description=form.description,
            media_url=str(form.media_url) if form.media_url else None,
            first_name=form.first_name,
            last_name=form.last_name,
            phone=form.phone,
            idempotency_key=request.headers.get(IDEMPOTENCY_HEADER) or None,
        ),
        submitter=user,
        calendar=current_calendar(),
    )
    if photos and not result.replayed:
        stored = evidence.store_prepared(
            session,
            photos[0],
            subject_type="report",
            subject_id=result.report_id,
            purpose="report",
            uploaded_by_id=user.id,
        )
        services.set_media_url(session, result.report_id, request.host_url.rstrip("/") + evidence_url(stored))
    return [
        {
            "service_request_id": str(result.report_id),
            "service_notice": services.service_notice(result.case_facts.number, result.merged),
            "account_id": form.account_id,
        }
    ]


@open311_route(
    "/requests",
    summary="Open311: service requests (default: the last 90 days; at most 1000 per page)",
    query=RequestsQuery,
    response=ServiceRequestList,
    errors=(400,),
)
def list_requests(query: RequestsQuery) -> list[dict[str, Any]]:
    session = db_session()
    flt = services.request_filter(
        service_request_id=query.service_request_id,
        service_code=query.service_code,
        start_date=query.start_date,
        end_date=query.end_date,
        status=query.status,
        now=datetime.now(SHANGHAI),
    )
    reports = services.find_requests(session, flt, page=query.page, page_size=query.page_size)
    presenter = services.RequestPresenter(session, reports)
    return [presenter.request(r) for r in reports]


@open311_route(
    "/requests/<request_id>",
    summary="Open311: one service request (a list of one element)",
    query=JurisdictionParams,
    response=ServiceRequestList,
    errors=(404,),
)
def get_request(request_id: str, query: JurisdictionParams) -> list[dict[str, Any]]:
    session = db_session()
    report = services.get_request(session, request_id)
    return [services.RequestPresenter(session, [report]).request(report)]


def init_app(app: Flask) -> None:
    """Mount the blueprint and its error shape under /open311/."""
    app.register_blueprint(bp, url_prefix=PREFIX)
    register_error_renderer(app, "/open311/", render_error)
