"""The five measurements. Each A/B pair runs interleaved (ABAB…, order flipped each round)."""

from __future__ import annotations

import json
import os
import random
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import create_engine, event, func, insert, select

from bench import requests as reqs
from bench.load import Prepared, run_in_child
from bench.seed import PendingBooking, WebhookTenant
from bench.server import ROOT, stop


@dataclass
class Pair:
    """One A/B comparison: raw runs of each side, in the order they ran."""

    name: str
    a: list[dict] = field(default_factory=list)
    b: list[dict] = field(default_factory=list)

    def ratio(self, key: str) -> float:
        """Median over rounds of A/B, each round's two runs side by side."""
        return statistics.median(x[key] / y[key] for x, y in zip(self.a, self.b, strict=True) if y[key])

    def median(self, side: str, key: str) -> float:
        return statistics.median(run[key] for run in getattr(self, side))


def _check_2xx(result: dict, what: str) -> None:
    bad = {s: n for s, n in result["statuses"].items() if not 200 <= s < 300}
    if bad:
        raise RuntimeError(f"{what}: non-2xx answers {bad}; see bench/.gunicorn.log")


def interleaved(name: str, rounds: int, make_a, make_b, port: int, concurrency: int,
                port_b: int | None = None) -> Pair:
    """make_a/make_b() → prepared requests, built (and signed) just before their run; side B goes
    to `port_b` when given (the floor app), else to the same server."""
    pair = Pair(name)
    ports = {"a": port, "b": port_b or port}
    for r in range(rounds):
        order = (("a", make_a), ("b", make_b)) if r % 2 == 0 else (("b", make_b), ("a", make_a))
        for side, make in order:
            result = run_in_child(ports[side], make(), concurrency)
            _check_2xx(result, f"{name} ({side})")
            getattr(pair, side).append(result)
    return pair


# -- 1 and 2: webhooks vs bare ------------------------------------------------------


def run_size(plan: dict, concurrency: int) -> int:
    """Requests in one run: at least `per_client` for each client, so a run at 32 clients is
    not mostly ramp-up and ramp-down."""
    return max(plan["per_run"], plan["per_client"] * concurrency)


def stripe_vs_floor(port: int, floor_port: int, bookings: list[PendingBooking], plan: dict,
                    floor_path: str = reqs.FLOOR_STRIPE_PATH) -> list[Pair]:
    """The webhook (the whole app) vs the floor app's minimal endpoint (bench.floor), same gunicorn
    settings, same signed bodies."""
    fresh = iter(bookings)
    bare_ids = iter(range(10**9))

    def pair(c: int) -> Pair:
        n = run_size(plan, c)

        def full():
            return reqs.signed_stripe([reqs.paid_event(next(fresh)) for _ in range(n)])

        def floor():
            # The same kind of event body, for bookings that stay untouched (the floor endpoint
            # only verifies and inserts its own row).
            events = [reqs.paid_event(bookings[next(bare_ids) % len(bookings)]) for _ in range(n)]
            return reqs.signed_stripe(events, path=floor_path)

        return interleaved(f"stripe c={c}", plan["rounds"], full, floor, port, c, port_b=floor_port)

    # Warm the floor's processes as the earlier phases warmed the app's (imports, pools, first
    # requests of each gunicorn worker thread), unmeasured.
    warm = [reqs.paid_event(bookings[i % len(bookings)]) for i in range(32)]
    _check_2xx(run_in_child(floor_port, reqs.signed_stripe(warm, path=floor_path), 8), "floor warm-up")
    _check_2xx(run_in_child(port, reqs.signed_stripe([reqs.paid_event(b) for b in bookings[-8:]]), 8), "warm-up")
    return [pair(c) for c in plan["concurrency"]]


def inbound_vs_bare(port: int, tenants: list[WebhookTenant], plan: dict) -> list[Pair]:
    routes = [r for t in tenants for r in t.routes]
    random.Random(7).shuffle(routes)

    def pair(c: int) -> Pair:
        n = run_size(plan, c)
        return interleaved(
            f"inbound c={c}",
            plan["rounds"],
            lambda: reqs.inbound_sms(routes, n),
            lambda: reqs.inbound_sms(routes, n, bare=True),
            port,
            c,
        )

    return [pair(c) for c in plan["concurrency"]]


# -- 5: duplicate deliveries under load --------------------------------------------


def duplicate_deliveries(port: int, env: dict, bookings: list[PendingBooking]) -> dict:
    """20 bookings, each paid by a checkout session and its payment intent (two event ids),
    each event delivered 5 times: 200 deliveries at once. Then a worker drains the queue."""
    from app.models import AssignmentWindow, AutomationRun, Booking, Message, OutboxEntry, Thread

    events = []
    for booking in bookings:
        intent = f"pi_bench_{booking.id}"
        events.append(reqs.paid_event(booking, "checkout.session.completed", intent_id=intent))
        events.append(reqs.paid_event(booking, "payment_intent.succeeded", intent_id=intent))
    deliveries = [evt for evt in events for _ in range(5)]
    random.Random(5).shuffle(deliveries)
    result = run_in_child(port, reqs.signed_stripe(deliveries), concurrency=len(deliveries))
    worker = drain_queues(env, "simple", ("stripe", "automations", "default"))
    ids = [b.id for b in bookings]
    engine = create_engine(env["DATABASE_URL"])
    with engine.connect() as conn:

        def count(query):
            return conn.scalar(query)

        confirmation_runs = select(AutomationRun.message_id).where(
            AutomationRun.booking_id.in_(ids), AutomationRun.kind == "booking_confirmation"
        )
        found = {
            "deliveries": len(deliveries),
            "distinct_events": len(events),
            "non_2xx": sum(n for s, n in result["statuses"].items() if not 200 <= s < 300),
            "bookings_confirmed": count(select(func.count()).where(Booking.id.in_(ids), Booking.status == "confirmed")),
            "threads": count(select(func.count()).select_from(Thread).where(Thread.booking_id.in_(ids))),
            "windows": count(
                select(func.count()).select_from(AssignmentWindow).where(AssignmentWindow.booking_id.in_(ids))
            ),
            "confirmation_runs": count(select(func.count()).select_from(confirmation_runs.subquery())),
            "confirmation_messages_sent": count(
                select(func.count())
                .select_from(Message)
                .where(Message.id.in_(confirmation_runs), Message.status == "sent")
            ),
            "outbox_entries": count(
                select(func.count()).select_from(OutboxEntry).where(OutboxEntry.message_id.in_(confirmation_runs))
            ),
            "worker_failed_jobs": worker["failed"],  # the failed registry was empty before
            "seconds": result["seconds"],
        }
    engine.dispose()
    expected = {
        "threads": 20,
        "windows": 20,
        "confirmation_runs": 20,
        "confirmation_messages_sent": 20,
        "outbox_entries": 20,
        "bookings_confirmed": 20,
        "non_2xx": 0,
        "worker_failed_jobs": 0,
    }
    found["ok"] = all(found[k] == v for k, v in expected.items())
    return found


def drain_queues(env: dict, kind: str, queues) -> dict:
    """One burst worker in its own process; returns its JSON report (failed: registry total)."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.worker_run", kind, *queues],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


# -- 6 and 7: applying stored Stripe events --------------------------------------------


def settle_stripe_backlog(env: dict) -> int:
    """Forget what scenario 1 left: its stored events were never meant to be applied (no worker
    ran then). Their jobs leave Redis and the rows are marked, so no later phase applies them."""
    from redis import Redis

    from app.models import StripeEvent

    with Redis.from_url(env["REDIS_URL"]) as redis:
        redis.flushdb()
    engine = create_engine(env["DATABASE_URL"])
    with engine.begin() as conn:
        left = conn.execute(
            StripeEvent.__table__.update()
            .where(StripeEvent.status == "received")
            .values(status="ignored", reason="bench: stored by the throughput phase, not applied")
        ).rowcount
    engine.dispose()
    return left


def received_to_queued(port: int, env: dict, bookings: list[PendingBooking], concurrency: int, workers: int) -> dict:
    """Paid events posted by `concurrency` clients while `workers` worker processes run: for each, the
    time from its row being stored (the request) to its confirmation text's row being queued (the
    worker: apply job, then the confirmation automation's job)."""
    from app.jobs.specs import QUEUE_NAMES
    from app.models import AutomationRun, Message, StripeEvent

    settle_stripe_backlog(env)
    floor = floor_drain(env, len(bookings), workers)
    log = open(ROOT / "bench" / ".worker.log", "ab")
    procs = serving_workers(env, QUEUE_NAMES, workers, log)  # the app's queue order
    ids = [b.id for b in bookings]
    engine = create_engine(env["DATABASE_URL"])
    confirmation = (
        select(StripeEvent.created_at, Message.created_at)
        .join(AutomationRun, AutomationRun.booking_id == StripeEvent.booking_id)
        .join(Message, Message.id == AutomationRun.message_id)
        .where(StripeEvent.booking_id.in_(ids), AutomationRun.kind == "booking_confirmation")
    )
    try:
        result = run_in_child(port, reqs.signed_stripe([reqs.paid_event(b) for b in bookings]), concurrency)
        _check_2xx(result, "received → queued")
        deadline = time.monotonic() + 300
        while True:
            with engine.connect() as conn:
                rows = conn.execute(confirmation).all()
            if len(rows) == len(ids) or time.monotonic() > deadline:
                break
            time.sleep(0.5)  # a poll of another process's progress, not a test
    finally:
        stop(procs, log)
        log.close()
    engine.dispose()
    if len(rows) != len(ids):
        raise RuntimeError(f"received → queued: {len(rows)} of {len(ids)} confirmations queued; see bench/.worker.log")
    ms = sorted((queued - stored).total_seconds() * 1000 for stored, queued in rows)
    span = (max(queued for _, queued in rows) - min(stored for stored, _ in rows)).total_seconds()
    return {
        "drain_seconds": span,  # first event stored → last confirmation queued
        "posting_seconds": result["seconds"],
        "events": len(ids),
        "concurrency": concurrency,
        "workers": workers,
        "p50_ms": statistics.median(ms),
        "p99_ms": ms[min(len(ms) - 1, int(len(ms) * 0.99))],
        "max_ms": ms[-1],
        "webhook_throughput": result["throughput"],
        "webhook_p99_ms": result["p99_ms"],
        "floor_drain_seconds": floor["seconds"],
        "floor_job_span_seconds": floor["job_span_seconds"],
    }


def serving_workers(env: dict, queues, count: int, log) -> list[subprocess.Popen]:
    """`count` non-forking worker processes on `queues` (`bench.worker_run serve`), once every one
    is registered and waiting: start-up is not timed on either side of the burst."""
    from redis import Redis
    from rq import Worker

    procs = [subprocess.Popen([sys.executable, "-m", "bench.worker_run", "serve", *queues],
                              env=env, cwd=ROOT, stdout=log, stderr=log) for _ in range(count)]
    with Redis.from_url(env["REDIS_URL"]) as redis:
        deadline = time.monotonic() + 180
        while Worker.count(connection=redis) < count:
            if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
                for proc in procs:
                    proc.kill()
                raise RuntimeError("the bench's workers did not start; see bench/.worker.log")
            time.sleep(0.1)  # waiting on other processes' start, not a test
    return procs


def floor_drain(env: dict, jobs: int, workers: int) -> dict:
    """The burst's floor, on the same footing as the app's side: `workers` worker processes already
    running (as `serve`, like the app's), then `jobs` one-row jobs (bench.floor.one_row_job) put on
    the `stripe` queue at once; seconds from the enqueue to the last row written."""
    from redis import Redis
    from rq import Queue
    from rq.serializers import JSONSerializer

    from app.jobs.specs import JOBS
    from app.models import StripeEvent

    tag = f"{time.time_ns()}"
    written = select(func.count()).select_from(StripeEvent).where(StripeEvent.id.like(f"floor-job-drain-{tag}-%"))
    engine = create_engine(env["DATABASE_URL"])
    log = open(ROOT / "bench" / ".worker.log", "ab")
    with Redis.from_url(env["REDIS_URL"]) as redis:
        queue = Queue(JOBS.apply_stripe_event.queue, connection=redis, serializer=JSONSerializer)
        procs = serving_workers(env, (queue.name,), workers, log)
        try:
            with redis.pipeline() as pipe:
                for i in range(jobs):
                    queue.enqueue(FLOOR_JOB, f"drain-{tag}-{i}", pipeline=pipe)
                started = time.perf_counter()
                pipe.execute()
            deadline = time.monotonic() + 300
            with engine.connect() as conn:
                while (done := conn.scalar(written)) < jobs:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"floor drain: {done} of {jobs} rows written in 300 s")
                    time.sleep(0.02)  # polling another process's progress, not a test
                    conn.rollback()
            seconds = time.perf_counter() - started
        finally:
            stop(procs, log)
            log.close()
            engine.dispose()
        redis.flushdb()
    return {"seconds": seconds, "job_span_seconds": seconds, "jobs": jobs, "workers": workers}


FLOOR_JOB = "bench.floor.one_row_job"


def store_received_events(engine, events: list[dict]) -> None:
    """Stripe events stored as the webhook stores them (`received`, with their payload), no job."""
    from app.models import StripeEvent

    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(insert(StripeEvent), [
            {"id": e["id"], "type": e["type"], "status": "received", "attempts": 0, "created_at": now,
             "payload": json.dumps(e), "stripe_created": e["created"],
             "payment_intent": e["data"]["object"]["payment_intent"]}
            for e in events
        ])


def applies_vs_floor(env: dict, bookings: list[PendingBooking], rounds: int, per_run: int) -> Pair:
    """Jobs per second of one burst worker on the `stripe` queue: app.jobs.apply_stripe_event on stored
    paid events (each for its own pending booking) vs the floor's one-row job (bench.floor)."""

    from redis import Redis
    from rq import Queue, Retry
    from rq.serializers import JSONSerializer

    from app.jobs.queue import FAILURE_TTL, RESULT_TTL
    from app.jobs.specs import JOBS
    from app.models import StripeEvent

    spec = JOBS.apply_stripe_event

    settle_stripe_backlog(env)
    engine = create_engine(env["DATABASE_URL"])
    redis = Redis.from_url(env["REDIS_URL"])
    queue = Queue(spec.queue, connection=redis, serializer=JSONSerializer)
    fresh = iter(bookings)
    applied_ids = []

    def enqueue(func_name: str) -> None:
        """Rows as the webhook stores them, jobs as it enqueues them (same id and options)."""
        events = [reqs.paid_event(next(fresh)) for _ in range(per_run)] if func_name != FLOOR_JOB else []
        if events:
            store_received_events(engine, events)
            applied_ids.extend(e["id"] for e in events)
        for i in range(per_run):
            event_id = events[i]["id"] if events else f"apply-{time.time_ns()}-{i}"
            queue.enqueue(func_name, event_id, job_id=spec.id_for(event_id) if events else None,
                          result_ttl=RESULT_TTL, failure_ttl=FAILURE_TTL,
                          retry=Retry(max=spec.retry.max, interval=list(spec.retry.intervals)))

    pair = Pair("stripe applies")
    for r in range(rounds):
        order = (("a", "app.jobs.apply_stripe_event"), ("b", FLOOR_JOB))
        for side, func_name in order if r % 2 == 0 else order[::-1]:
            enqueue(func_name)
            result = drain_queues(env, "simple", (spec.queue,))
            if result["processed"] != per_run or result["failed"]:
                raise RuntimeError(f"{pair.name} {func_name}: {result}")
            result["jobs_per_second"] = (per_run - 1) / result["job_span_seconds"]
            getattr(pair, side).append(result)
            redis.flushdb()  # the confirmations' own jobs (other queues) are not part of this measure
    with engine.connect() as conn:
        not_processed = conn.scalar(
            select(func.count()).select_from(StripeEvent)
            .where(StripeEvent.id.in_(applied_ids), StripeEvent.status != "processed")
        )
    engine.dispose()
    redis.close()
    if not_processed:
        raise RuntimeError(f"{not_processed} stored bench events were not processed")
    return pair


# -- 4: sends through RQ vs a no-op job ---------------------------------------------


def enqueue_sends(engine, queue, tenant: WebhookTenant, func_name: str, count: int) -> None:
    """`count` queued outbound rows, then their jobs, as queue_outbound_message leaves them
    (same job id and options as app.jobs.queue); `func_name` runs for each."""
    from rq import Retry

    from app.jobs.queue import FAILURE_TTL, RESULT_TTL
    from app.jobs.specs import JOBS
    from app.models import Message

    spec = JOBS.send_message

    route = tenant.routes[0]
    now = datetime.now(UTC)
    with engine.begin() as conn:
        ids = (
            conn.execute(
                insert(Message).returning(Message.id),
                [
                    {
                        "org_id": tenant.org_id,
                        "thread_id": route.thread_id,
                        "direction": "outbound",
                        "sender_kind": "automation",
                        "body": f"Bench send {i}",
                        "status": "queued",
                        "from_e164": route.number_e164,
                        "to_e164": route.client_phone,
                        "attempts": 0,
                        "owner_inbox": False,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for i in range(count)
                ],
            )
            .scalars()
            .all()
        )
    for message_id in ids:
        queue.enqueue(
            func_name,
            message_id,
            job_id=spec.id_for(message_id),
            result_ttl=RESULT_TTL,
            failure_ttl=FAILURE_TTL,
            retry=Retry(max=spec.retry.max, interval=list(spec.retry.intervals)),
        )


def sends_vs_noop(env: dict, tenant: WebhookTenant, rounds: int, per_run: int) -> list[Pair]:
    """Jobs per second of one burst worker: app.jobs.send_message vs bench.jobs.noop."""
    from redis import Redis
    from rq import Queue
    from rq.serializers import JSONSerializer

    from app.models import Message

    engine = create_engine(env["DATABASE_URL"])
    redis = Redis.from_url(env["REDIS_URL"])
    redis.flushdb()
    queue = Queue("default", connection=redis, serializer=JSONSerializer)

    def enqueue(func_name: str) -> None:
        enqueue_sends(engine, queue, tenant, func_name, per_run)

    pairs = []
    for kind in ("forking", "simple"):
        pair = Pair(f"sends {kind}")
        for r in range(rounds):
            order = (("a", "app.jobs.send_message"), ("b", "bench.jobs.noop"))
            for side, func_name in order if r % 2 == 0 else order[::-1]:
                enqueue(func_name)
                result = drain_queues(env, kind, ("default",))
                if result["processed"] != per_run or result["failed"]:  # Redis was flushed above
                    raise RuntimeError(f"{pair.name} {func_name}: {result}")
                # n jobs from the first start to the last end: n - 1 job intervals.
                result["jobs_per_second"] = (per_run - 1) / result["job_span_seconds"]
                getattr(pair, side).append(result)
        pairs.append(pair)
    with engine.connect() as conn:
        unsent = conn.scalar(
            select(func.count())
            .select_from(Message)
            .where(Message.body.like("Bench send %"), Message.status != "sent", Message.status != "queued")
        )
    engine.dispose()
    redis.flushdb()
    redis.close()
    if unsent:
        raise RuntimeError(f"{unsent} bench sends ended neither sent nor (noop) queued")
    return pairs


# -- 3: the sitter dashboard at three sizes ------------------------------------------


@dataclass
class DashboardSite:
    bookings: int
    env: dict
    port: int
    cookie: str
    statements: dict  # url → SQL statements per request


DASHBOARD_URLS = {"/sitter": {}, "/sitter/active": {"HX-Request": "true"}}


def log_in(app, user_id: int) -> str:
    """Log this user in as /login does (a server-side login session); the token the session
    cookie carries (Flask-Login's `_user_id`)."""
    from app.extensions import db
    from app.models import User
    from app.services.accounts.sessions import start_session

    with app.app_context():
        return start_session(db.session.get(User, user_id), remember=False, user_agent="bench").token


def session_cookie(app, token: str) -> str:
    """A signed Flask session holding this login's token (what /login sets)."""
    value = app.session_interface.get_signing_serializer(app).dumps({"_user_id": token, "_fresh": True})
    return f"{app.config['SESSION_COOKIE_NAME']}={value}"


def count_statements(app, token: str) -> dict:
    """SQL statements one request to each dashboard URL runs (in-process, same database)."""
    from app.extensions import db

    counts = {}
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"], session["_fresh"] = token, True
    with app.app_context():
        engine = db.engine
    for url, headers in DASHBOARD_URLS.items():
        seen = []

        def listener(conn, cursor, statement, *args, seen=seen):
            seen.append(statement)

        client.get(url, headers=headers)  # warm: the login's user load is cached the same way each time
        event.listen(engine, "before_cursor_execute", listener)
        try:
            response = client.get(url, headers=headers)
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        if response.status_code != 200:
            raise RuntimeError(f"{url} answered {response.status_code} in-process")
        counts[url] = len(seen)
    return counts


def dashboard_latency(sites: list[DashboardSite], rounds: int, per_run: int) -> dict:
    """Per URL: each size's runs, sizes in rotating order every round (noise hits all sizes)."""
    results = {url: {site.bookings: [] for site in sites} for url in DASHBOARD_URLS}
    for r in range(rounds):
        order = sites[r % len(sites) :] + sites[: r % len(sites)]
        for site in order:
            for url, headers in DASHBOARD_URLS.items():
                prepared = [Prepared("GET", url, b"", {**headers, "Cookie": site.cookie}) for _ in range(per_run)]
                result = run_in_child(site.port, prepared, 1)
                _check_2xx(result, f"{url} at {site.bookings}")
                results[url][site.bookings].append(result)
    return results


def machine() -> dict:
    import platform

    from redis import Redis
    from sqlalchemy import text

    from bench.server import PG_ADMIN, REDIS_BASE

    engine = create_engine(PG_ADMIN)
    with engine.connect() as conn:
        pg = conn.scalar(text("SHOW server_version"))
    engine.dispose()
    redis = Redis.from_url(REDIS_BASE)
    redis_version = redis.info("server")["redis_version"]
    redis.close()
    return {
        "nproc": os.cpu_count(),
        "uname": " ".join(platform.uname()),
        "python": platform.python_version(),
        "postgresql": pg,
        "redis": redis_version,
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "load_average": " ".join(f"{x:.1f}" for x in os.getloadavg()),
    }


def now_utc() -> datetime:
    return datetime.now(UTC)


def elapsed(started: float) -> str:
    return f"{time.perf_counter() - started:.0f} s"
