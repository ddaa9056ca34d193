"""The media store: one small interface, a filesystem and an S3-compatible implementation.

Keys are opaque names chosen by the app (`org/<id>/media/<id>/<random>.jpg`); nothing
here builds a URL anyone could fetch. Every read goes through the app's own routes,
which authorise the reader first (app.services.media.access).
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path
from typing import Protocol

from flask import current_app

log = logging.getLogger(__name__)

EXTENSION_KEY = "pawline_media_store"


class MediaStoreError(Exception):
    """The store could not write or read a file (disk full, bucket unreachable, …)."""


class MediaStore(Protocol):
    name: str

    def put(self, key: str, data: bytes, content_type: str) -> None: ...

    def get(self, key: str) -> bytes: ...

    def delete(self, key: str) -> None: ...


def _safe_key(key: str) -> str:
    parts = key.split("/")
    if not key or key.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise ValueError(f"not a media key: {key!r}")
    return key


class FilesystemStore:
    """Files under a root directory (instance/media by default); each write is atomic."""

    name = "filesystem"

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        return self.root / _safe_key(key)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # Write beside the target, then rename: a reader never sees half a file.
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".part-")
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, path)
        except OSError as exc:
            raise MediaStoreError(f"could not write media file: {type(exc).__name__}") from exc

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except OSError as exc:
            raise MediaStoreError(f"could not read media file: {type(exc).__name__}") from exc

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)


class S3Store:
    """Private objects in one bucket of S3-compatible storage (boto3; `endpoint_url` for non-AWS).

    Objects are written without an ACL (private, the bucket's default) and never handed out by
    a presigned or public URL: the app reads them and serves them after its own checks.
    """

    name = "s3"

    def __init__(self, client, bucket: str):
        self.client = client
        self.bucket = bucket

    @classmethod
    def from_config(cls, config) -> S3Store:
        import boto3
        from botocore.config import Config

        client = boto3.client(
            "s3",
            endpoint_url=config.get("MEDIA_S3_ENDPOINT_URL"),
            region_name=config.get("MEDIA_S3_REGION"),
            # None: boto3's own chain (environment, instance role) supplies the keys.
            aws_access_key_id=config.get("MEDIA_S3_ACCESS_KEY_ID"),
            aws_secret_access_key=config.get("MEDIA_S3_SECRET_ACCESS_KEY"),
            config=Config(connect_timeout=5, read_timeout=30, retries={"max_attempts": 3, "mode": "standard"}),
        )
        return cls(client, config["MEDIA_S3_BUCKET"])

    def put(self, key: str, data: bytes, content_type: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.put_object(Bucket=self.bucket, Key=_safe_key(key), Body=data, ContentType=content_type)
        except (BotoCoreError, ClientError) as exc:
            raise MediaStoreError(f"could not write media object: {type(exc).__name__}") from exc

    def get(self, key: str) -> bytes:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return self.client.get_object(Bucket=self.bucket, Key=_safe_key(key))["Body"].read()
        except (BotoCoreError, ClientError) as exc:
            raise MediaStoreError(f"could not read media object: {type(exc).__name__}") from exc

    def delete(self, key: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.delete_object(Bucket=self.bucket, Key=_safe_key(key))
        except (BotoCoreError, ClientError) as exc:
            log.warning("media object %s not deleted: %s", key, type(exc).__name__)


def get_media_store() -> MediaStore:
    """The configured store, built once per app (a boto3 client is thread-safe and reusable)."""
    store = current_app.extensions.get(EXTENSION_KEY)
    if store is None:
        config = current_app.config
        store = S3Store.from_config(config) if config["MEDIA_STORAGE"] == "s3" else FilesystemStore(
            config["MEDIA_ROOT"])
        current_app.extensions[EXTENSION_KEY] = store
    return store


def delete_quietly(store: MediaStore, keys: list[str]) -> None:
    """Best-effort removal of files written for something that was then refused."""
    for key in keys:
        try:
            store.delete(key)
        except (OSError, ValueError, MediaStoreError):
            log.warning("media file %s left behind after a refused send", key)
