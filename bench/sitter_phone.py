"""`.venv/bin/python -m bench.sitter_phone [--quick]`: what 1,000 sitters online cost, and push jobs.

1. Thread polling, before and after incremental fetching. Before: every 15 s each open thread
   page re-fetched its whole message list (up to 200, here 40) and re-marked it read. After:
   `?after=<newest id>`, answered 204 when nothing is new (the usual case). Both URLs still
   exist, so both sides run side by side (interleaved, order flipped each round) under
   gunicorn, each request as a different one of the 1,000 sitters.
2. Push jobs per second of one worker: app.jobs.deliver_notification (claim the row, encrypt,
   sign VAPID, POST to a push service on loopback, record the result) against the no-op job.

Writes its section of docs/performance.md (between the sitter-phone markers).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from sqlalchemy import create_engine, event, insert, text

from bench.load import Prepared, run_in_child
from bench.scenarios import Pair, _check_2xx, drain_queues, machine, session_cookie
from bench.seed import (
    NO_LOGIN_HASH,
    BookingSpec,
    add,
    add_bookings,
    add_clients,
    add_numbers,
    add_org,
    add_threads_and_windows,
    fast_bulk_load,
)
from bench.server import (
    ROOT,
    app_config,
    bench_env,
    checkpoint,
    drop_database,
    fresh_database,
    gunicorn,
    redis_database,
)

SITTERS = 1_000
MESSAGES_PER_THREAD = 40
POLL_SECONDS = 15  # the thread page's poll interval
FULL = {"rounds": 4, "per_run": 1_000, "push_rounds": 4, "pushes_per_run": 200}
QUICK = {"rounds": 2, "per_run": 300, "push_rounds": 2, "pushes_per_run": 60}
DOC = ROOT / "docs" / "performance.md"
START_MARK, END_MARK = "<!-- sitter-phone:start -->", "<!-- sitter-phone:end -->"


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- seed


def seed(url: str, now: datetime) -> list[tuple[int, int, int]]:
    """1,000 sitters with a login, each in an open window with a 40-message thread.
    Returns (user id, thread id, newest message id) per sitter."""
    from app.models import Message, Sitter, User

    engine = create_engine(url)
    with engine.begin() as conn:
        fast_bulk_load(conn)
        org_id = add_org(conn, "Sitter phone bench")
        _, pool_ids, pool_e164s = add_numbers(conn, org_id, 0, 50)
        users = add(conn, User, [
            {"org_id": org_id, "email": f"sitter{i}@phone.bench", "password_hash": NO_LOGIN_HASH,
             "role": "sitter", "name": f"Sitter{i} Phone", "active": True} for i in range(SITTERS)])
        sitters = add(conn, Sitter, [
            {"org_id": org_id, "name": f"Sitter{i} Phone", "phone_e164": f"+1415{5_550_000 + i:07d}",
             "active": True, "user_id": u} for i, u in enumerate(users)])
        clients = add_clients(conn, org_id, SITTERS)
        start = now - timedelta(minutes=30)
        specs = [BookingSpec(client_id=c, sitter_id=s, start=start, status="confirmed", hours=2)
                 for (c, _), s in zip(clients, sitters, strict=True)]
        bookings = add_bookings(conn, org_id, specs)
        threads = add_threads_and_windows(conn, org_id, list(zip(bookings, specs, strict=True)), pool_ids)
        rows = []
        for i, (thread_id, (_, phone)) in enumerate(zip(threads, clients, strict=True)):
            number_id, number = pool_ids[i % len(pool_ids)], pool_e164s[i % len(pool_e164s)]
            for m in range(MESSAGES_PER_THREAD):
                inbound = m % 2 == 0
                at = start + timedelta(seconds=30 * m)
                rows.append({"org_id": org_id, "thread_id": thread_id, "message_number_id": number_id,
                             "direction": "inbound" if inbound else "outbound",
                             "sender_kind": "client" if inbound else "sitter",
                             "sender_user_id": None if inbound else users[i],
                             "status": "received" if inbound else "delivered",
                             "body": f"Message {m}: Rex had a good walk and ate everything.",
                             "from_e164": phone if inbound else number, "to_e164": number if inbound else phone,
                             "routing_reason": "active_window" if inbound else None,
                             "attempts": 0 if inbound else 1, "created_at": at, "updated_at": at})
        message_ids = add(conn, Message, rows)
        conn.execute(text("ANALYZE"))
    engine.dispose()
    newest = message_ids[MESSAGES_PER_THREAD - 1::MESSAGES_PER_THREAD]
    return list(zip(users, threads, newest, strict=True))


# ---------------------------------------------------------------- polling


def poll_requests(app, sitters, count: int, offset: int, incremental: bool) -> list[Prepared]:
    prepared = []
    for k in range(count):
        user_id, thread_id, newest = sitters[(offset + k) % len(sitters)]
        path = f"/sitter/threads/{thread_id}/messages" + (f"?after={newest}" if incremental else "")
        prepared.append(Prepared("GET", path, b"", {"HX-Request": "true", "Cookie": session_cookie(app, user_id)}))
    return prepared


def statements_per_poll(app, sitter, incremental: bool) -> int:
    from app.extensions import db

    user_id, thread_id, newest = sitter
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"], session["_fresh"] = str(user_id), True
    url = f"/sitter/threads/{thread_id}/messages" + (f"?after={newest}" if incremental else "")
    with app.app_context():
        engine = db.engine
    client.get(url, headers={"HX-Request": "true"})  # warm, as in bench.scenarios.count_statements
    seen = []

    def listener(conn, cursor, statement, *args):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", listener)
    try:
        response = client.get(url, headers={"HX-Request": "true"})
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    expected = 204 if incremental else 200
    if response.status_code != expected:
        raise RuntimeError(f"{url} answered {response.status_code}, expected {expected}")
    return len(seen)


def polling(plan: dict, env: dict, sitters) -> dict:
    from app import create_app

    app = create_app(app_config(env))
    counts = {"full": statements_per_poll(app, sitters[0], False), "after": statements_per_poll(app, sitters[0], True)}
    pair = Pair("thread poll: full list vs ?after")
    with gunicorn(env) as port:
        # Warm both paths on every gunicorn worker first.
        for incremental in (False, True):
            run_in_child(port, poll_requests(app, sitters, 50, 0, incremental), 8)
        offset = 0
        for r in range(plan["rounds"]):
            order = (("a", False), ("b", True)) if r % 2 == 0 else (("b", True), ("a", False))
            for side, incremental in order:
                result = run_in_child(port, poll_requests(app, sitters, plan["per_run"], offset, incremental), 8)
                _check_2xx(result, pair.name)
                result["bytes_note"] = "204" if incremental else "200"
                getattr(pair, side).append(result)
                offset += plan["per_run"]
    from app.extensions import db

    with app.app_context():
        db.engine.dispose()
    return {"pair": pair, "statements": counts}


# ---------------------------------------------------------------- push jobs


class _PushService:
    """The push service's side, as cheap as possible: read the request, answer 201."""

    def __init__(self):
        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # noqa: N802
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.send_response(201)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def _browser_keys() -> tuple[str, str]:
    import base64
    import os

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)

    def b64(raw):
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    return b64(public), b64(os.urandom(16))


def push_jobs(plan: dict, env: dict, sitters, service: _PushService) -> Pair:
    from redis import Redis
    from rq import Queue
    from rq.serializers import JSONSerializer

    from app.models import Notification, PushSubscription

    engine = create_engine(env["DATABASE_URL"])
    p256dh, auth = _browser_keys()
    with engine.begin() as conn:
        org_id = conn.scalar(text("SELECT org_id FROM users WHERE id = :u"), {"u": sitters[0][0]})
        conn.execute(insert(PushSubscription), [
            {"org_id": org_id, "user_id": user_id, "endpoint": f"{service.origin}/push/{user_id}", "p256dh": p256dh,
             "auth": auth, "device": "bench", "inbox_items": False, "created_at": datetime.now(UTC)}
            for user_id, _, _ in sitters])
    redis = Redis.from_url(env["REDIS_URL"])
    redis.flushdb()
    queue = Queue("default", connection=redis, serializer=JSONSerializer)
    serial = iter(range(10**9))

    def enqueue(func_name: str) -> None:
        now = datetime.now(UTC)
        with engine.begin() as conn:
            ids = conn.execute(insert(Notification).returning(Notification.id), [
                {"org_id": org_id, "user_id": user_id, "kind": "client_text", "dedupe_key": f"bench:{next(serial)}",
                 "thread_id": thread_id, "title": "New message from Client (Rex)",
                 "body": "Tap to open the conversation.",
                 "url": f"/sitter/threads/{thread_id}", "status": "pending", "channel": "none", "devices": 0,
                 "created_at": now}
                for user_id, thread_id, _ in sitters[:plan["pushes_per_run"]]]).scalars().all()
        for notification_id in ids:
            queue.enqueue(func_name, notification_id, result_ttl=3600)

    pair = Pair("push job vs no-op job")
    for r in range(plan["push_rounds"]):
        order = (("a", "app.jobs.deliver_notification"), ("b", "bench.jobs.noop"))
        for side, func_name in order if r % 2 == 0 else order[::-1]:
            enqueue(func_name)
            result = drain_queues(env, "simple", ("default",))
            if result["processed"] != plan["pushes_per_run"] or result["failed"]:
                raise RuntimeError(f"{pair.name} {func_name}: {result}")
            result["jobs_per_second"] = (plan["pushes_per_run"] - 1) / result["job_span_seconds"]
            getattr(pair, side).append(result)
    with engine.connect() as conn:
        statuses = dict(conn.execute(text("SELECT status, count(*) FROM notifications GROUP BY status")).all())
    engine.dispose()
    redis.flushdb()
    redis.close()
    delivered = plan["push_rounds"] * plan["pushes_per_run"]
    if statuses.get("sent") != delivered:
        raise RuntimeError(f"push jobs: expected {delivered} sent, found {statuses}")
    return pair


# ---------------------------------------------------------------- report


def render(results: dict) -> str:
    poll, push = results["polling"]["pair"], results["push"]
    stmts = results["polling"]["statements"]
    polls_per_minute = SITTERS * 60 // POLL_SECONDS
    needed = SITTERS / POLL_SECONDS
    full_rps, after_rps = poll.median("a", "throughput"), poll.median("b", "throughput")
    m = results["machine"]
    lines = [
        START_MARK,
        "## The sitter's phone: polling and push (issue 16)",
        "",
        f"Measured {m['date']} on {m['nproc']} cores (load average {m['load_average']}), PostgreSQL "
        f"{m['postgresql']}, Redis {m['redis']}, gunicorn 2 workers × 4 threads; `python -m bench.sitter_phone"
        f"{' --quick' if results['quick'] else ''}`. Each figure is the median of {len(poll.a)} rounds, the two "
        "sides of each pair run one after the other (order flipped each round), so the ratio is the number to read.",
        "",
        f"**Thread polling, {SITTERS:,} sitters online**, each with an open window and a {MESSAGES_PER_THREAD}-message "
        f"thread, polling every {POLL_SECONDS} s ({polls_per_minute:,} polls a minute, {needed:.0f} a second). "
        "Before: the whole list re-fetched and re-marked read. After: `?after=<newest id>`, 204 when nothing is new.",
        "",
        "| | requests/s | p50 ms | p99 ms | SQL statements per poll | statements per minute (1,000 sitters) |",
        "|---|---:|---:|---:|---:|---:|",
        f"| before: full list | {full_rps:.0f} | {poll.median('a', 'p50_ms'):.1f} | {poll.median('a', 'p99_ms'):.1f} | "
        f"{stmts['full']} | {stmts['full'] * polls_per_minute:,} |",
        f"| after: `?after=` → 204 | {after_rps:.0f} | {poll.median('b', 'p50_ms'):.1f} | "
        f"{poll.median('b', 'p99_ms'):.1f} | {stmts['after']} | {stmts['after'] * polls_per_minute:,} |",
        f"| after / before | **{poll.ratio('throughput') ** -1:.2f}×** | | | "
        f"{stmts['after'] / stmts['full']:.2f}× | {stmts['after'] / stmts['full']:.2f}× |",
        "",
        f"The {SITTERS:,} sitters need {needed:.0f} polls a second: at the rates measured here (a shared "
        "2-core machine under the load average above, so read the absolute figures as a floor) the "
        f"full-list poll needs {needed / full_rps:.1f}× this server, the incremental one {needed / after_rps:.1f}×. "
        "A poll that finds something new costs what the full one did, for the new rows only; the "
        "after-poll also writes nothing (the read mark moves only when there is something to read).",
        "",
        f"**Push jobs per second, one non-forking worker** ({results['plan']['pushes_per_run']} jobs a run): "
        "`app.jobs.deliver_notification` (claim the row, load the device, encrypt aes128gcm, sign the VAPID "
        "JWT, POST to a push service on loopback that answers 201, record the result) against `bench.jobs.noop`.",
        "",
        "| | jobs/s | ratio to no-op |",
        "|---|---:|---:|",
        f"| push job | {push.median('a', 'jobs_per_second'):.0f} | **{push.ratio('jobs_per_second'):.2f}** |",
        f"| no-op job | {push.median('b', 'jobs_per_second'):.0f} | 1 |",
        "",
        "Raw runs (requests/s, full vs after): "
        + ", ".join(f"{a['throughput']:.0f}/{b['throughput']:.0f}" for a, b in zip(poll.a, poll.b, strict=True))
        + "; push vs no-op jobs/s: "
        + ", ".join(f"{a['jobs_per_second']:.0f}/{b['jobs_per_second']:.0f}"
                    for a, b in zip(push.a, push.b, strict=True))
        + ".",
        END_MARK,
    ]
    return "\n".join(lines) + "\n"


def carry_section(path, text: str) -> str:
    """`text` (a fresh bench.run report) with this benchmark's section from the file at `path` kept."""
    current = path.read_text() if path.exists() else ""
    if START_MARK not in current or END_MARK not in current:
        return text
    section = START_MARK + current.split(START_MARK, 1)[1].split(END_MARK, 1)[0] + END_MARK + "\n"
    return text.rstrip("\n") + "\n\n" + section


def write_doc(section: str) -> None:
    current = DOC.read_text() if DOC.exists() else ""
    if START_MARK in current and END_MARK in current:
        before, rest = current.split(START_MARK, 1)
        after = rest.split(END_MARK, 1)[1].lstrip("\n")
        DOC.write_text(before + section + ("\n" + after if after else ""))
    else:
        DOC.write_text(current.rstrip("\n") + "\n\n" + section)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="bench.sitter_phone")
    parser.add_argument("--quick", action="store_true", help="fewer rounds (a smoke run)")
    parser.add_argument("--no-doc", action="store_true", help="print the section instead of writing the doc")
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    from app.vapid_keys import generate_vapid_keys

    public, private = generate_vapid_keys()
    with ExitStack() as stack:
        redis_url = stack.enter_context(redis_database())
        log("seeding 1,000 sitters …")
        url = fresh_database("pawline_bench_sitterphone")
        stack.callback(drop_database, url)
        sitters = seed(url, datetime.now(UTC))
        checkpoint(url)
        env = bench_env(url, redis_url)
        env.update({"VAPID_PUBLIC_KEY": public, "VAPID_PRIVATE_KEY": private,
                    "VAPID_SUBJECT": "mailto:bench@pawline.test", "BENCH_PUSH_LOOPBACK": "1"})
        log("thread polling …")
        poll = polling(plan, env, sitters)
        service = _PushService()
        stack.callback(service.close)
        log("push jobs …")
        push = push_jobs(plan, env, sitters, service)
        results = {"polling": poll, "push": push, "plan": plan, "quick": args.quick, "machine": machine()}
    section = render(results)
    if args.no_doc:
        print(section)
    else:
        write_doc(section)
        log(f"wrote {DOC.relative_to(ROOT)}")
    print(json.dumps({"full_rps": poll["pair"].median("a", "throughput"),
                      "after_rps": poll["pair"].median("b", "throughput"),
                      "statements": poll["statements"],
                      "push_ratio": push.ratio("jobs_per_second"),
                      "push_jobs_per_second": statistics.median(r["jobs_per_second"] for r in push.a)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
