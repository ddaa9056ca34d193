"""Bulk seeding for the benchmarks: ids reserved from each table's sequence, rows sent with COPY.

COPY skips the ORM, so Python-side column defaults (created_at, attempts, …) are
filled in here from the model metadata; the rows are otherwise what the app writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from app.localtime import zone_where_it_is
from app.models import (
    Alert,
    AssignmentWindow,
    Booking,
    Client,
    Message,
    MessageNumber,
    Org,
    Pet,
    Sitter,
    Thread,
    ThreadRead,
    User,
)

GRACE = timedelta(minutes=60)  # Org.grace_minutes default: window = booking end + grace
NO_LOGIN_HASH = "bench:no-password-login"  # sessions are signed by the bench; nobody logs in
AREA_CODES = ("202", "212", "312", "415", "617", "303")


def client_phone(i: int) -> str:
    """A valid, org-unique US number for client i."""
    area = AREA_CODES[i // 900_000]
    return f"+1{area}{3_000_000 + i % 900_000:07d}"


def reserve_ids(conn, model, count: int) -> list[int]:
    table = model.__table__.name
    rows = conn.execute(text(f"SELECT nextval('{table}_id_seq') FROM generate_series(1, :n)"), {"n": count})
    return [r[0] for r in rows]


def _default(column):
    default = column.default
    if default is None:
        return None
    if default.is_scalar:
        return default.arg
    if default.is_callable:
        return default.arg(None)
    return None


def copy_rows(conn, model, rows: list[dict]) -> None:
    """COPY dict rows into the model's table; missing columns get their model default."""
    if not rows:
        return
    table = model.__table__
    given = set().union(*(r.keys() for r in rows))
    columns = [c for c in table.columns if c.name in given or c.default is not None or not c.nullable]
    defaults = {c.name: _default(c) for c in columns}
    names = ", ".join(c.name for c in columns)
    raw = conn.connection.driver_connection
    with raw.cursor() as cur, cur.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([row[c.name] if c.name in row else defaults[c.name] for c in columns])


def add(conn, model, rows: list[dict]) -> list[int]:
    """Give each row a fresh id from the table's sequence, COPY them in; returns the ids."""
    ids = reserve_ids(conn, model, len(rows))
    for row, row_id in zip(rows, ids, strict=True):
        row["id"] = row_id
    copy_rows(conn, model, rows)
    return ids


def fast_bulk_load(conn) -> None:
    """For this transaction: skip foreign-key triggers (ids come from the same seeding) and the
    WAL flush at commit. Needs a superuser, as the bench's local PostgreSQL is."""
    conn.execute(text("SET LOCAL session_replication_role = replica"))
    conn.execute(text("SET LOCAL synchronous_commit = off"))


def add_org(conn, name: str, **kw) -> int:
    row = {
        "name": name,
        "timezone": "America/New_York",
        "grace_minutes": 60,
        "quiet_start_hour": 21,
        "quiet_end_hour": 8,
        "policy_mode": "block",
        "visit_followup_enabled": True,
        "currency": "usd",
    }
    row.update(kw)
    return add(conn, Org, [row])[0]


def add_numbers(conn, org_id: int, org_index: int, pool: int) -> tuple[int, list[int], list[str]]:
    """A front-desk number and `pool` pool numbers; returns (front desk id, pool ids, pool e164s)."""
    e164s = [f"+1646{2_000_000 + org_index * 1000 + i:07d}" for i in range(pool + 1)]
    ids = add(
        conn,
        MessageNumber,
        [
            {
                "org_id": org_id,
                "e164": e,
                "kind": "front_desk" if i == 0 else "pool",
                "active": True,
                "assignment_count": 0,
            }
            for i, e in enumerate(e164s)
        ],
    )
    return ids[0], ids[1:], e164s[1:]


def add_sitters(conn, org_id: int, count: int, with_login_for_first: bool = False) -> tuple[list[int], int | None]:
    user_id = None
    if with_login_for_first:
        user_id = add(
            conn,
            User,
            [
                {
                    "org_id": org_id,
                    "email": f"sitter-{org_id}@bench.test",
                    "password_hash": NO_LOGIN_HASH,
                    "role": "sitter",
                    "name": "Bench Sitter",
                    "active": True,
                }
            ],
        )[0]
    rows = [
        {
            "org_id": org_id,
            "name": f"Sitter{i} Bench",
            "phone_e164": f"+1415{5_550_000 + i:07d}",
            "active": True,
            "user_id": user_id if i == 0 else None,
        }
        for i in range(count)
    ]
    return add(conn, Sitter, rows), user_id


def add_clients(conn, org_id: int, count: int, with_pets: bool = True,
                timezone: str | None = None) -> list[tuple[int, str]]:
    phones = [client_phone(i) for i in range(count)]
    ids = add(
        conn,
        Client,
        [
            {"org_id": org_id, "name": f"Client{i} Bench", "phone_e164": p, "opted_out": False, "area": "Northside",
             "timezone": timezone}
            for i, p in enumerate(phones)
        ],
    )
    if with_pets:
        add(conn, Pet, [{"org_id": org_id, "client_id": c, "name": f"Rex{c}", "species": "dog"} for c in ids])
    return list(zip(ids, phones, strict=True))


@dataclass(frozen=True)
class BookingSpec:
    client_id: int
    sitter_id: int
    start: datetime
    status: str
    hours: int = 1


def add_bookings(conn, org_id: int, specs: list[BookingSpec]) -> list[int]:
    return add(
        conn,
        Booking,
        [
            {
                "org_id": org_id,
                "client_id": s.client_id,
                "sitter_id": s.sitter_id,
                "service": "Drop-in visit",
                "start_at": s.start,
                "end_at": s.start + timedelta(hours=s.hours),
                "status": s.status,
                "price_cents": 3500,
                "currency": "usd",
                "created_at": s.start - timedelta(days=3),
                "updated_at": s.start - timedelta(days=3),
                "confirmed_at": s.start - timedelta(days=2) if s.status != "pending" else None,
                "paid_at": s.start - timedelta(days=2) if s.status != "pending" else None,
                "completed_at": s.start + timedelta(hours=s.hours) if s.status == "completed" else None,
                "cancelled_at": s.start - timedelta(days=1) if s.status == "cancelled" else None,
            }
            for s in specs
        ],
    )


def add_threads_and_windows(
    conn, org_id: int, bookings: list[tuple[int, BookingSpec]], number_ids: list[int]
) -> list[int]:
    """One client_booking thread and one window per booking; returns the thread ids."""
    thread_ids = add(
        conn,
        Thread,
        [
            {
                "org_id": org_id,
                "client_id": s.client_id,
                "booking_id": b,
                "scope": "client_booking",
                "message_number_id": number_ids[i % len(number_ids)],
                "number_reason": "pool_lru",
                "created_at": s.start - timedelta(days=2),
                "last_message_at": s.start,
            }
            for i, (b, s) in enumerate(bookings)
        ],
    )
    add(
        conn,
        AssignmentWindow,
        [
            {
                "org_id": org_id,
                "thread_id": t,
                "booking_id": b,
                "sitter_id": s.sitter_id,
                "starts_at": s.start,
                "ends_at": s.start + timedelta(hours=s.hours) + GRACE,
                "created_at": s.start - timedelta(days=2),
                "updated_at": s.start - timedelta(days=2),
            }
            for t, (b, s) in zip(thread_ids, bookings, strict=True)
        ],
    )
    return thread_ids


def add_conversation(conn, org_id: int, threads: list[tuple[int, BookingSpec, str, str, int]]) -> None:
    """Three texts per thread: the confirmation, a reply from the client, the sitter's answer.

    `threads` rows: (thread_id, spec, client phone, number e164, number id).
    """
    rows = []
    for thread_id, spec, phone, number, number_id in threads:
        base = {"org_id": org_id, "thread_id": thread_id, "message_number_id": number_id, "attempts": 1}
        rows.append(
            {
                **base,
                "direction": "outbound",
                "sender_kind": "automation",
                "status": "delivered",
                "body": "Your visit is confirmed.",
                "from_e164": number,
                "to_e164": phone,
                "created_at": spec.start - timedelta(days=2),
                "updated_at": spec.start - timedelta(days=2),
            }
        )
        rows.append(
            {
                **base,
                "direction": "inbound",
                "sender_kind": "client",
                "status": "received",
                "body": "Thanks! The key is under the mat.",
                "from_e164": phone,
                "to_e164": number,
                "routing_reason": "active_window",
                "created_at": spec.start + timedelta(minutes=5),
                "updated_at": spec.start + timedelta(minutes=5),
                "attempts": 0,
            }
        )
        rows.append(
            {
                **base,
                "direction": "outbound",
                "sender_kind": "sitter",
                "status": "delivered",
                "body": "On my way in now.",
                "from_e164": number,
                "to_e164": phone,
                "created_at": spec.start + timedelta(minutes=10),
                "updated_at": spec.start + timedelta(minutes=10),
            }
        )
    add(conn, Message, rows)


# -- the tenants each scenario needs ------------------------------------------------


@dataclass(frozen=True)
class PendingBooking:
    id: int
    org_id: int
    price_cents: int = 3500
    currency: str = "usd"


@dataclass(frozen=True)
class InboundRoute:
    org_id: int
    client_phone: str
    number_e164: str
    thread_id: int


@dataclass
class WebhookTenant:
    org_id: int
    pending: list[PendingBooking]
    routes: list[InboundRoute]


def seed_webhook_tenant(conn, org_index: int, pending: int, active_threads: int, now: datetime) -> WebhookTenant:
    """An org with pending bookings (for paid webhooks) and clients texting open windows.

    No quiet hours of the org's own, and the org and its clients live where it is about noon (the
    law's quiet hours, 8 a.m. to 9 p.m. the client's time, always hold), so each confirmation is
    queued for now rather than for tomorrow morning, whatever the hour the bench runs at.
    """
    zone = zone_where_it_is(12, now.astimezone(UTC).hour)
    org_id = add_org(conn, f"Bench Webhooks {org_index}", quiet_start_hour=0, quiet_end_hour=0, timezone=zone)
    _, pool_ids, pool_e164s = add_numbers(conn, org_id, org_index, pool=10)
    sitter_ids, _ = add_sitters(conn, org_id, 5)
    clients = add_clients(conn, org_id, max(pending // 2, 1) + active_threads, timezone=zone)
    active_clients, pending_clients = clients[:active_threads], clients[active_threads:]
    pending_specs = [
        BookingSpec(
            pending_clients[i % len(pending_clients)][0],
            sitter_ids[i % 5],
            now + timedelta(days=2, minutes=90 * i),
            "pending",
        )
        for i in range(pending)
    ]
    pending_ids = add_bookings(conn, org_id, pending_specs)
    active_specs = [
        BookingSpec(c, sitter_ids[i % 5], now - timedelta(minutes=30), "confirmed", hours=3)
        for i, (c, _) in enumerate(active_clients)
    ]
    active_ids = add_bookings(conn, org_id, active_specs)
    thread_ids = add_threads_and_windows(conn, org_id, list(zip(active_ids, active_specs, strict=True)), pool_ids)
    routes = [
        InboundRoute(org_id, phone, pool_e164s[i % len(pool_ids)], t)
        for i, ((_, phone), t) in enumerate(zip(active_clients, thread_ids, strict=True))
    ]
    return WebhookTenant(org_id, [PendingBooking(b, org_id) for b in pending_ids], routes)


@dataclass(frozen=True)
class DashboardOrg:
    org_id: int
    user_id: int  # the measured sitter's login
    bookings: int


FIXED_VISIBLE = 5  # the measured sitter's bookings touching now: 3 open windows, 2 cancelled today


def seed_dashboard_org(conn, org_index: int, bookings: int, now: datetime, sitters: int = 10) -> DashboardOrg:
    """An org holding `bookings` bookings with threads, windows, three texts each and read marks.

    The measured sitter (the first) sees the same dashboard at every size: 3 open
    windows and 2 cancelled visits today, 3 open alerts. Everything else is
    history (two years back) or future (2-60 days ahead), 1/`sitters` of it theirs.
    """
    fast_bulk_load(conn)
    org_id = add_org(conn, f"Bench Dashboard {bookings}")
    _, pool_ids, pool_e164s = add_numbers(conn, org_id, org_index, pool=10)
    sitter_ids, user_id = add_sitters(conn, org_id, sitters, with_login_for_first=True)
    clients = add_clients(conn, org_id, max(bookings // 20, FIXED_VISIBLE))
    me = sitter_ids[0]
    specs = [
        BookingSpec(clients[i][0], me, now - timedelta(minutes=20), "confirmed" if i < 3 else "cancelled")
        for i in range(FIXED_VISIBLE)
    ]
    rest = bookings - FIXED_VISIBLE
    for i in range(rest):
        client_id = clients[i % len(clients)][0]
        sitter_id = sitter_ids[i % sitters]
        if i % 10 == 9:  # a tenth is still ahead
            specs.append(
                BookingSpec(client_id, sitter_id, now + timedelta(days=2, minutes=(i * 37) % 83_000), "confirmed")
            )
        else:
            specs.append(
                BookingSpec(client_id, sitter_id, now - timedelta(days=3, minutes=(i * 53) % 1_050_000), "completed")
            )
    booking_ids = add_bookings(conn, org_id, specs)
    pairs = list(zip(booking_ids, specs, strict=True))
    thread_ids = add_threads_and_windows(conn, org_id, pairs, pool_ids)
    phone_of = dict(clients)
    add_conversation(
        conn,
        org_id,
        [
            (t, s, phone_of[s.client_id], pool_e164s[i % len(pool_ids)], pool_ids[i % len(pool_ids)])
            for i, (t, (_, s)) in enumerate(zip(thread_ids, pairs, strict=True))
        ],
    )
    # The sitter has read every past thread of theirs (the open ones have unread replies).
    add(
        conn,
        ThreadRead,
        [
            {"org_id": org_id, "user_id": user_id, "thread_id": t, "read_at": s.start + timedelta(hours=1)}
            for t, (_, s) in zip(thread_ids, pairs, strict=True)
            if s.sitter_id == me and s.status == "completed"
        ],
    )
    alerts = [
        {
            "org_id": org_id,
            "audience": "sitter",
            "sitter_id": me,
            "kind": "policy.violation",
            "text": "A text was held back: it had a phone number in it.",
            "created_at": now - timedelta(hours=h),
        }
        for h in range(1, 4)
    ]
    alerts += [
        {
            "org_id": org_id,
            "audience": "sitter",
            "sitter_id": sitter_ids[i % sitters],
            "kind": "message.blocked_outside_window",
            "text": "Not sent: outside the window.",
            "created_at": now - timedelta(days=10 + i),
            "resolved_at": now - timedelta(days=9 + i),
        }
        for i in range(bookings // 100)
    ]
    add(conn, Alert, alerts)
    return DashboardOrg(org_id, user_id, bookings)
