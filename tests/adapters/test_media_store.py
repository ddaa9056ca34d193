"""The media store: the filesystem default and S3-compatible storage (moto's S3 server on loopback)."""

from __future__ import annotations

import pytest
import requests

from app.adapters.media_store import FilesystemStore, MediaStoreError, S3Store, get_media_store

BUCKET = "pawline-media-test"


@pytest.fixture(scope="module")
def s3_endpoint():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_config(s3_endpoint):
    import boto3

    config = {"MEDIA_STORAGE": "s3", "MEDIA_S3_BUCKET": BUCKET, "MEDIA_S3_ENDPOINT_URL": s3_endpoint,
              "MEDIA_S3_REGION": "us-east-1", "MEDIA_S3_ACCESS_KEY_ID": "test-key",
              "MEDIA_S3_SECRET_ACCESS_KEY": "test-secret"}
    admin = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1",
                         aws_access_key_id="test-key", aws_secret_access_key="test-secret")
    admin.create_bucket(Bucket=BUCKET)
    yield config
    for item in admin.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        admin.delete_object(Bucket=BUCKET, Key=item["Key"])
    admin.delete_bucket(Bucket=BUCKET)
    admin.close()


def test_s3_store_writes_private_objects_and_reads_them_back(app, s3_config, s3_endpoint):
    app.config.update(s3_config)
    app.extensions.pop("pawline_media_store", None)
    store = get_media_store()
    assert isinstance(store, S3Store)
    store.put("org/1/media/7/abc.jpg", b"\xff\xd8jpeg bytes", "image/jpeg")
    assert store.get("org/1/media/7/abc.jpg") == b"\xff\xd8jpeg bytes"
    head = store.client.head_object(Bucket=BUCKET, Key="org/1/media/7/abc.jpg")
    assert head["ContentType"] == "image/jpeg"
    acl = store.client.get_object_acl(Bucket=BUCKET, Key="org/1/media/7/abc.jpg")
    assert all(grant["Grantee"].get("URI") is None for grant in acl["Grants"])  # no AllUsers grant
    # The bucket is not readable anonymously: the app is the only way in.
    assert requests.get(f"{s3_endpoint}/{BUCKET}/org/1/media/7/abc.jpg", timeout=5).status_code == 403
    store.delete("org/1/media/7/abc.jpg")
    with pytest.raises(MediaStoreError):
        store.get("org/1/media/7/abc.jpg")
    app.extensions.pop("pawline_media_store", None)


def test_a_photo_sent_by_a_sitter_lands_in_s3_and_is_served_through_the_app(app, client, login_as, make, clock,
                                                                             s3_config):
    import io
    from datetime import UTC, datetime

    from sqlalchemy import select

    from app.extensions import db
    from app.models import MessageMedia
    from tests.support.media_stand_in import has_gps, photo_bytes
    from tests.support.sitter_data import make_visit

    app.config.update(s3_config)
    app.extensions.pop("pawline_media_store", None)
    start = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)
    clock.set(start)
    visit = make_visit(make, start=start, hours=1)
    login_as(visit.user)
    response = client.post(f"/sitter/threads/{visit.thread.id}/messages", content_type="multipart/form-data",
                           data={"body": "", "photos": [(io.BytesIO(photo_bytes((400, 300))), "a.jpg")]})
    assert response.status_code == 302
    db.session.rollback()
    media = db.session.scalar(select(MessageMedia))
    objects = get_media_store().client.list_objects_v2(Bucket=BUCKET)["Contents"]
    assert sorted(o["Key"] for o in objects) == sorted([media.storage_key, media.thumb_key])
    served = client.get(f"/media/{media.id}")
    assert served.status_code == 200 and not has_gps(served.data)
    app.extensions.pop("pawline_media_store", None)


def test_s3_store_that_cannot_be_reached_says_so(app):
    store = S3Store.from_config({"MEDIA_S3_BUCKET": BUCKET, "MEDIA_S3_ENDPOINT_URL": "http://127.0.0.1:9",
                                 "MEDIA_S3_REGION": "us-east-1", "MEDIA_S3_ACCESS_KEY_ID": "k",
                                 "MEDIA_S3_SECRET_ACCESS_KEY": "s"})
    with pytest.raises(MediaStoreError):
        store.put("a/b.jpg", b"x", "image/jpeg")


def test_filesystem_store_refuses_keys_that_escape_its_root(tmp_path):
    store = FilesystemStore(tmp_path / "media")
    store.put("org/1/a.jpg", b"x", "image/jpeg")
    assert store.get("org/1/a.jpg") == b"x"
    for key in ("../outside.jpg", "/etc/passwd", "org//a.jpg", "org/./a.jpg"):
        with pytest.raises(ValueError):
            store.put(key, b"x", "image/jpeg")
    assert not (tmp_path / "outside.jpg").exists()
