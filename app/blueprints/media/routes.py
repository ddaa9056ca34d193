"""Thin views over app.services.media.access, and the upload helpers the compose forms share."""

from __future__ import annotations

from flask import Response, current_app, request
from werkzeug.exceptions import RequestEntityTooLarge

from app.blueprints.media import bp
from app.errors import InvalidInput, NotFound
from app.services.media.access import describe_media, media_for_messages, read_media, read_signed_media
from app.services.media.outbound import KEPT, Upload
from app.services.media.processing import MMS_MAX_FILES, ImageRejected, check_pixel_budget
from app.web.principals import current_org_user, org_user_required

MAX_ID = 2**31 - 1  # ids are 32-bit integers in the database: anything larger is simply not there
# The forms that carry photos. Every other request keeps the small MAX_CONTENT_LENGTH.
UPLOAD_ENDPOINTS = frozenset({"sitter.send", "admin.inbox_message", "sitter.visit_report"})


@bp.app_url_value_preprocessor
def _allow_photo_uploads(endpoint, values) -> None:
    """Raise the body limit for the photo forms only. URL value preprocessors run before every
    before_request hook, and so before CSRF protection first reads (and size-checks) the form."""
    if endpoint in UPLOAD_ENDPOINTS:
        request.max_content_length = current_app.config["MEDIA_UPLOAD_MAX_BYTES"]


def _file_response(media, *, cache: str) -> Response:
    response = Response(media.data, mimetype=media.content_type if media.is_image else "application/octet-stream")
    # A client's file (HTML, SVG, anything) must never render in our origin: photos are
    # re-encoded JPEGs; everything else is a download.
    disposition = "inline" if media.is_image else "attachment"
    response.headers["Content-Disposition"] = f'{disposition}; filename="{media.filename}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = cache
    return response


@bp.get("/media/<int:media_id>")
@org_user_required
def full(media_id: int):
    return _read(media_id, "full")


@bp.get("/media/<int:media_id>/thumb")
@org_user_required
def thumb(media_id: int):
    return _read(media_id, "thumb")


def _read(media_id: int, variant: str) -> Response:
    if media_id > MAX_ID:
        raise NotFound("We could not find that attachment.")
    # Personal data: never stored by a cache (app.web.headers makes every logged-in answer no-store).
    return _file_response(read_media(current_org_user(), media_id, variant), cache="no-store")


@bp.get("/media/signed/<int:media_id>/<epoch:expires>/<signature>.jpg")
def signed(media_id: int, expires: int, signature: str):
    """What Twilio fetches for an outbound photo: no login, a valid unexpired signature (else 403)."""
    if media_id > MAX_ID:
        raise NotFound("We could not find that attachment.")
    return _file_response(read_signed_media(media_id, expires, signature), cache="no-store")


@bp.app_template_global()
def attachments_for(messages) -> dict:
    """{message id: [MediaItem]} for the messages a thread or list shows (one query)."""
    ids = [getattr(m, "message_id", None) or m.id for m in messages]
    return media_for_messages(ids)


bp.add_app_template_global(describe_media, "describe_media")


def uploaded_photos() -> list[Upload]:
    """The `photos` files of this request (an endpoint in UPLOAD_ENDPOINTS).

    InvalidInput when the request is over MEDIA_UPLOAD_MAX_BYTES (with CSRF off; with it on,
    Flask's 413 comes first and app/static/js/photo_upload.js shows it beside the kept text).
    """
    try:
        files = request.files.getlist("photos")
    except RequestEntityTooLarge:
        limit = current_app.config["MEDIA_UPLOAD_MAX_BYTES"] // (1024 * 1024)
        raise InvalidInput(f"Those photos are more than {limit} MB together. Attach fewer at once. {KEPT}",
                           field="photos") from None
    files = [f for f in files if f and f.filename]
    if len(files) > MMS_MAX_FILES:
        raise InvalidInput(f"Attach at most {MMS_MAX_FILES} photos to one message. {KEPT}", field="photos")
    uploads = []
    for file in files:
        with file.stream:  # spooled to a temporary file when large: close it now, not at GC
            uploads.append(Upload(file.filename, file.read()))
    try:
        check_pixel_budget([(upload.filename, upload.data) for upload in uploads])
    except ImageRejected as exc:
        raise InvalidInput(f"{exc} {KEPT}", field="photos") from None
    return uploads
