"""Citizen API: an anonymous report (no account) and the secret status link that follows it."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request
from werkzeug.datastructures import FileStorage

from coordinator import ratelimit
from coordinator.api import endpoint
from coordinator.cases.intake import ReportInput
from coordinator.cases.views import current_calendar
from coordinator.citizen import services
from coordinator.citizen.schemas import CitizenReceiptOut, CitizenReportIn, StatusOut
from coordinator.errors import NotFound, ValidationFailed
from coordinator.evidence import services as evidence
from coordinator.evidence.files import IMAGE_MEDIA_TYPES, THUMBNAIL_MEDIA_TYPE
from coordinator.evidence.schemas import PHOTOS_PART
from coordinator.evidence.views import file_response
from coordinator.extensions import db_session
from coordinator.geolocation.views import current_locator, needs_locator
from coordinator.settings import get_settings

bp = Blueprint("citizen", __name__)

STATUS_PAGE = "/s/"  # the page w14web renders (coordinator/web)
STATUS_API = "/api/v1/status/"
PHONE_WINDOW_S = 24 * 3600
PHOTO_ANSWERS = {t: "A photo the status link shows (re-encoded without metadata)." for t in IMAGE_MEDIA_TYPES}
THUMBNAIL_ANSWER = {THUMBNAIL_MEDIA_TYPE: "Its JPEG thumbnail."}


def _no_referrer(response: Response) -> Response:
    # The token is in the URL: it must not leak to other sites in a Referer, nor sit in shared caches.
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.post("/citizen/reports")
@needs_locator
@endpoint(
    summary="A citizen's report without an account (JSON, or multipart with photos) → case number and "
    "a secret status link",
    description="Anonymous: no login. Limited per client address (CITIZEN_REPORTS_PER_IP_HOUR per hour) "
    "and per phone number (CITIZEN_REPORTS_PER_PHONE_DAY per day): 429 `rate_limited` with Retry-After. "
    "The phone is required (a mainland mobile or landline; it carries the per-phone limit and lets the "
    "squad call back; squads see it masked, dispatchers in full, the status page never). `notify` "
    "(optional) asks for progress messages on that phone (`sms` or `suishenban`, `consent: true`): when "
    "the case is claimed, resolved and closed, a `reporter_*` message for the gateway goes into the "
    "webhook outbox. With photos, "
    "send multipart/form-data: the report as JSON in the part `report`, up to 9 images in `photos` "
    "(415 for a file that is not a JPEG, PNG or WebP image, 413 over the size or pixel limit — and then "
    "nothing is stored). The answer's `status_url` is shown only this once: the token in it is stored "
    "hashed.",
    tags=["citizen"],
    body=CitizenReportIn,
    file_parts=(PHOTOS_PART,),
    json_part="report",
    response=CitizenReceiptOut,
    status=201,
    errors=(400, 404, 413, 415, 429, 503),
)
def submit_report(body: CitizenReportIn, uploads: dict[str, list[FileStorage]]) -> Response:
    settings = get_settings()
    phone = services.normalize_phone(body.reporter.phone)
    if phone is None:
        raise ValidationFailed(
            "invalid request body",
            details=[
                {
                    "field": "reporter.phone",
                    "message": "not a mainland mobile (1[3-9] + 9 digits) or landline (0 + area code) number",
                    "type": "phone",
                }
            ],
        )
    if settings.rate_limits_enabled:
        ratelimit.enforce(
            "citizen_reports:phone",
            services.phone_key(phone, settings.secret_key),
            limit=settings.citizen_reports_per_phone_day,
            window_seconds=PHONE_WINDOW_S,
        )
    # Every photo is checked before the report is taken: a bad one refuses the request, nothing stored.
    photos = evidence.prepare_uploads(uploads[PHOTOS_PART.name], limits=evidence.current_limits())
    data = ReportInput(
        category=body.category,
        lon=body.lon,
        lat=body.lat,
        crs=body.crs,
        description=body.description,
        source="citizen",
        observed_at=body.observed_at,
        reporter_name=body.reporter.name,
        reporter_phone=phone,
        notify_channel=body.notify.channel if body.notify else None,
        notify_consent=bool(body.notify and body.notify.consent),
    )
    receipt = services.submit_citizen_report(
        db_session(), current_locator(), data, photos, calendar=current_calendar()
    )
    base = request.host_url.rstrip("/")
    response = jsonify(
        {
            "case_number": receipt.case_number,
            "merged": receipt.merged,
            "photos": receipt.photos,
            "status_url": f"{base}{STATUS_PAGE}{receipt.token}",
            "status_api_url": f"{base}{STATUS_API}{receipt.token}",
        }
    )
    response.status_code = 201
    response.headers["Cache-Control"] = "no-store"
    return _no_referrer(response)


@bp.get("/status/<token>")
@endpoint(
    summary="What a citizen's status link shows: progress, the squad's feedback, after photos (public)",
    description="The token is the secret of the link (`status_url`); 404 for any token that is not one. "
    "No reporter contact data, no staff names, no internal notes.",
    tags=["citizen"],
    response=StatusOut,
    errors=(404,),
)
def get_status(token: str) -> Response:
    session = db_session()
    link = services.resolve_token(session, token)
    response = jsonify(services.public_status(session, link, base=f"{STATUS_API}{token}"))
    response.headers["Cache-Control"] = "private, no-cache"
    return _no_referrer(response)


def _public_file(token: str, evidence_id: int) -> Any:
    session = db_session()
    link = services.resolve_token(session, token)
    for item in services.public_evidence(session, link):
        if item.id == evidence_id:
            return item
    raise NotFound("这个查询链接下没有这张照片")


@bp.get("/status/<token>/evidence/<id:evidence_id>")
@endpoint(
    summary="A photo shown by a status link (the citizen's own, or the squad's after photos)",
    tags=["citizen"],
    files=PHOTO_ANSWERS,
    errors=(404,),
    conditional=True,
)
def get_status_photo(token: str, evidence_id: int) -> Response:
    return _no_referrer(file_response(_public_file(token, evidence_id), thumbnail=False))


@bp.get("/status/<token>/evidence/<id:evidence_id>/thumbnail")
@endpoint(
    summary="The thumbnail of a photo shown by a status link",
    tags=["citizen"],
    files=THUMBNAIL_ANSWER,
    errors=(404,),
    conditional=True,
)
def get_status_thumbnail(token: str, evidence_id: int) -> Response:
    return _no_referrer(file_response(_public_file(token, evidence_id), thumbnail=True))
