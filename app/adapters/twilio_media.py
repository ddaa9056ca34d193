"""Fetch one inbound MMS media file from Twilio, and from nowhere else.

A webhook's `MediaUrlN` is attacker-reachable input (a forged or replayed form, a
misconfigured proxy), so the first request goes only to Twilio's API origin and only
under our own account's path, with the account's credentials (HTTP basic auth). Twilio
answers with a redirect to its storage; that hop, and only a hop that began at
Twilio's API origin, is followed, without the credentials.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import requests

MAX_REDIRECTS = 3
# Where Twilio's API redirects a media request: its media storage (mms.twiliocdn.com and the
# like, or the S3 bucket behind media.twiliocdn.com). "*." is any subdomain. No other host is
# followed, whatever a redirect says.
TWILIO_MEDIA_HOSTS = ("*.twiliocdn.com", "twiliocdn.com", "s3-external-1.amazonaws.com", "*.s3.amazonaws.com")
CONNECT_TIMEOUT, READ_TIMEOUT = 5, 30
CHUNK = 64 * 1024


class MediaFetchError(Exception):
    """`transient`: worth another try later (network trouble, Twilio 5xx or 429)."""

    def __init__(self, message: str, transient: bool = False):
        super().__init__(message)
        self.transient = transient


@dataclass(frozen=True)
class FetchedMedia:
    data: bytes
    content_type: str


def _origin(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return parts.scheme.lower(), (parts.hostname or "").lower(), port


def check_twilio_media_url(url: str, origin: str, account_sid: str) -> None:
    """Raise MediaFetchError (permanent) unless `url` is our account's media on Twilio's API origin."""
    try:
        parts = urlsplit(url)
        same_origin = _origin(url) == _origin(origin)
    except ValueError:
        raise MediaFetchError("the media URL is not a URL") from None
    if not same_origin or parts.username is not None or parts.password is not None:
        raise MediaFetchError(f"refused: the media URL is not on Twilio's API origin ({origin})")
    if not parts.path.startswith(f"/2010-04-01/Accounts/{account_sid}/"):
        raise MediaFetchError("refused: the media URL is not under this Twilio account")


def _media_host(host: str, origin: str, extra_hosts) -> bool:
    if host == _origin(origin)[1]:
        return True
    for pattern in (*TWILIO_MEDIA_HOSTS, *(extra_hosts or ())):
        if pattern.startswith("*.") and host.endswith(pattern[1:]) or host == pattern:
            return True
    return False


def fetch_twilio_media(url: str, *, origin: str, account_sid: str, auth_token: str, max_bytes: int,
                       session: requests.Session | None = None, extra_hosts=()) -> FetchedMedia:
    """The media's bytes and content type; MediaFetchError when refused or failed.

    A redirect is followed only to Twilio's API origin or its media hosts (TWILIO_MEDIA_HOSTS,
    plus `extra_hosts`)."""
    check_twilio_media_url(url, origin, account_sid)
    session = session or requests.Session()
    allowed_schemes = {"https", _origin(origin)[0]}
    auth = (account_sid, auth_token)
    try:
        for _hop in range(MAX_REDIRECTS + 1):
            response = session.get(url, auth=auth, allow_redirects=False, stream=True,
                                   timeout=(CONNECT_TIMEOUT, READ_TIMEOUT))
            with response:
                if response.is_redirect:
                    url = urljoin(url, response.headers["Location"])
                    if urlsplit(url).scheme.lower() not in allowed_schemes:
                        raise MediaFetchError("refused: Twilio redirected to a non-https URL")
                    if not _media_host(_origin(url)[1], origin, extra_hosts):
                        raise MediaFetchError("refused: the redirect is not to Twilio's media storage")
                    auth = None  # the account's credentials go to Twilio's API only
                    continue
                _raise_for_status(response.status_code)
                return FetchedMedia(_read_capped(response, max_bytes),
                                    response.headers.get("Content-Type", "application/octet-stream"))
    except requests.RequestException as exc:
        raise MediaFetchError(f"network error fetching the media: {type(exc).__name__}", transient=True) from exc
    raise MediaFetchError("refused: too many redirects")


def _raise_for_status(status: int) -> None:
    if status == 200:
        return
    if status == 429 or status >= 500:
        raise MediaFetchError(f"Twilio answered HTTP {status}", transient=True)
    raise MediaFetchError(f"Twilio answered HTTP {status}: the media cannot be fetched")


def _read_capped(response: requests.Response, max_bytes: int) -> bytes:
    declared = response.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise MediaFetchError(f"the media is larger than {max_bytes // (1024 * 1024)} MB")
    chunks, total = [], 0
    for chunk in response.iter_content(CHUNK):
        total += len(chunk)
        if total > max_bytes:
            raise MediaFetchError(f"the media is larger than {max_bytes // (1024 * 1024)} MB")
        chunks.append(chunk)
    return b"".join(chunks)
