"""Retention: texts and photos of bookings finished longer ago than the org's period are purged."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from app.adapters.media_store import get_media_store
from app.extensions import db
from app.models import ConsentEvent, Message, MessageMedia, ProviderDeletion
from app.services.messaging.retention import purge_expired_messages
from app.services.people.consent import record_consent


def _thread_with_text(make, clock, *, ended_days_ago, status="completed", body="Rex ate everything"):
    booking = make.booking(start=clock.now - timedelta(days=ended_days_ago, hours=1), status=status)
    thread = make.thread(booking=booking)
    message = make.message(thread=thread, body=body, provider_sid=f"SM{ended_days_ago:032d}")
    return message


def test_bodies_and_media_of_bookings_finished_past_the_period_go_and_the_rest_stays(make, clock):
    old = _thread_with_text(make, clock, ended_days_ago=800)
    recent = _thread_with_text(make, clock, ended_days_ago=100, body="Mochi was shy")
    get_media_store().put("test/old.jpg", b"jpeg", "image/jpeg")
    db.session.add(MessageMedia(org_id=old.org_id, message_id=old.id, status="stored", content_type="image/jpeg",
                                filename="photo-1.jpg", storage_key="test/old.jpg"))
    record_consent(old.org_id, "+12025550111", "granted", "verbal")
    db.session.commit()
    assert purge_expired_messages() == 1
    db.session.rollback()
    assert db.session.get(Message, old.id).body == "" and db.session.get(Message, recent.id).body == "Mochi was shy"
    assert db.session.scalar(select(func.count(MessageMedia.id))) == 0
    assert db.session.scalar(select(ProviderDeletion.provider_sid)) == old.provider_sid  # Twilio's copy too
    assert db.session.scalar(select(func.count(ConsentEvent.id))) == 1  # the ledger is kept
    assert purge_expired_messages() == 0  # nothing left to do: safe to run again


def test_the_org_setting_decides_and_open_bookings_are_never_purged(make, clock):
    org = make.default_org
    org.retention_days = 60
    db.session.commit()
    done = _thread_with_text(make, clock, ended_days_ago=90)
    still_open = _thread_with_text(make, clock, ended_days_ago=91, status="confirmed", body="Keep me")
    assert purge_expired_messages() == 1
    db.session.rollback()
    assert db.session.get(Message, done.id).body == ""
    assert db.session.get(Message, still_open.id).body == "Keep me"
