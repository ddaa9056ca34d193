"""`.venv/bin/python -m bench.profile {stripe,inbound,sends,runs,applies} [-n N] [--top K]`: one hot path, in-process.

Seeds a fresh PostgreSQL database (as `bench.run` does), then runs N requests (or send jobs)
through the app in this process, timing the full path against its bare yardstick side by
side, counting SQL statements, and printing a cProfile of the full path. This is the tool
behind `bench/findings.md`: the ratio it prints is CPU per request, not throughput under
load, so it is a guide for where time goes; `./scripts/bench` measures the goals.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import statistics
import sys
import time
from contextlib import ExitStack

from sqlalchemy import create_engine, event

from bench import requests as reqs
from bench import scenarios, seed
from bench.server import app_config, bench_env, drop_database, fresh_database, redis_database


def _client_calls(app, prepared):
    from app.jobs.queue import EXTENSION_KEY

    client, queue = app.test_client(), app.extensions[EXTENSION_KEY]

    def call(req):
        # Buffered: the response is closed as a server closes it, so the jobs a webhook hands over
        # after answering are handed over; then wait for the queue's sender thread (its CPU is in
        # the timings, not in cProfile's table, which sees this thread only).
        response = client.open(req.path, method=req.method, data=req.body, headers=req.headers, buffered=True)
        queue.wait_sent()
        if not 200 <= response.status_code < 300:
            raise RuntimeError(f"{req.path}: {response.status_code} {response.get_data(as_text=True)[:300]}")

    return [lambda req=req: call(req) for req in prepared]


def _timed(calls) -> list[float]:
    times = []
    for call in calls:
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return times


def _count(engine, call) -> int:
    seen = []

    def listener(*args):
        seen.append(args[2])

    event.listen(engine, "before_cursor_execute", listener)
    try:
        call()
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    return len(seen)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("path", choices=("stripe", "inbound", "sends", "runs", "applies"))
    parser.add_argument("-n", type=int, default=200, help="requests or jobs per side")
    parser.add_argument("--top", type=int, default=40, help="cProfile rows to print (0: none)")
    parser.add_argument("--sort", default="cumulative")
    args = parser.parse_args(argv)
    with ExitStack() as stack:
        redis_url = stack.enter_context(redis_database())
        # One database per process: helpers profiling side by side must not drop each other's.
        url = fresh_database("pawline_bench_profile")
        stack.callback(drop_database, url)
        env = bench_env(url, redis_url)
        engine = create_engine(url)
        with engine.begin() as conn:
            seed.fast_bulk_load(conn)
            tenant = seed.seed_webhook_tenant(conn, 1, 3 * args.n + 10, 50, scenarios.now_utc())
        engine.dispose()
        if args.path == "sends":
            return _sends(env, tenant, args)
        if args.path == "runs":
            return _runs(env, tenant, args)
        if args.path == "applies":
            return _applies(env, tenant, args)
        os.environ.update(env)
        from bench.wsgi import build

        app = build()
        if args.path == "stripe":
            pending = iter(tenant.pending)

            def full(n):
                return reqs.signed_stripe([reqs.paid_event(next(pending)) for _ in range(n)])

            def bare(n):
                return reqs.signed_stripe(
                    [reqs.paid_event(tenant.pending[i]) for i in range(n)], path=reqs.BARE_STRIPE_PATH
                )
        else:

            def full(n):
                return reqs.inbound_sms(tenant.routes, n)

            def bare(n):
                return reqs.inbound_sms(tenant.routes, n, bare=True)

        from app.extensions import db

        with app.app_context():
            sql_engine = db.engine
        # Warm both sides (imports, compiled-statement caches, pool).
        for call in _client_calls(app, full(5)) + _client_calls(app, bare(5)):
            call()
        statements_full = _count(sql_engine, _client_calls(app, full(1))[0])
        statements_bare = _count(sql_engine, _client_calls(app, bare(1))[0])
        a, b = [], []
        for r in range(4):
            sides = ((a, full), (b, bare)) if r % 2 == 0 else ((b, bare), (a, full))
            for out, make in sides:
                out.extend(_timed(_client_calls(app, make(args.n // 4))))
        med_a, med_b = statistics.median(a), statistics.median(b)
        print(
            f"{args.path}: full p50 {1000 * med_a:.2f} ms, bare p50 {1000 * med_b:.2f} ms, "
            f"bare/full {med_b / med_a:.2f}; statements full {statements_full}, bare {statements_bare}"
        )
        if args.top:
            calls = _client_calls(app, full(args.n // 2))
            _profile(calls, args)
        with app.app_context():
            db.engine.dispose()
    return 0


def _profile(calls, args) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    for call in calls:
        call()
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats(args.sort).print_stats(args.top)
    print(out.getvalue())


def _sends(env, tenant, args) -> int:
    """Send jobs vs no-op jobs, one non-forking burst worker each time, in this process."""
    import logging
    import os

    from redis import Redis
    from rq import Queue
    from rq.serializers import JSONSerializer

    os.environ.update(env)
    from app import create_app
    from app.jobs.worker import build_worker

    app = create_app(app_config(env))
    logging.getLogger().setLevel(logging.WARNING)
    redis = Redis.from_url(env["REDIS_URL"])
    queue = Queue("default", connection=redis, serializer=JSONSerializer)
    engine = create_engine(env["DATABASE_URL"])

    def run(func_name, n, profiler=None):
        scenarios.enqueue_sends(engine, queue, tenant, func_name, n)
        with app.app_context():
            worker = build_worker(app, forking=False, queue_names=("default",))
            started = time.perf_counter()
            if profiler:
                profiler.enable()
            worker.work(burst=True, logging_level="WARNING")
            if profiler:
                profiler.disable()
            return time.perf_counter() - started

    run("app.jobs.send_message", 5)
    run("bench.jobs.noop", 5)
    from app.extensions import db

    with app.app_context():
        sql_engine = db.engine
    statements = _count(sql_engine, lambda: run("app.jobs.send_message", 1))  # the app's statements only
    a, b = [], []
    for r in range(4):
        sides = ((a, "app.jobs.send_message"), (b, "bench.jobs.noop"))
        for out, name in sides if r % 2 == 0 else sides[::-1]:
            out.append(run(name, args.n // 4))
    print(
        f"sends: {args.n} jobs each side, send {sum(a):.2f} s, no-op {sum(b):.2f} s; "
        f"no-op/send {sum(b) / sum(a):.2f} (worker start-up included); statements per send job {statements}"
    )
    if args.top:
        profiler = cProfile.Profile()
        run("app.jobs.send_message", args.n // 2, profiler)
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(args.sort).print_stats(args.top)
        print(out.getvalue())
    engine.dispose()
    redis.close()
    return 0


def _due_confirmation_runs(app, engine, bookings) -> list[int]:
    """Confirm `bookings` as the burst does (a stored paid event, then its apply job, in-process):
    each gets its confirmation run, due now. Returns the runs' ids."""
    from sqlalchemy import select

    from app.models import AutomationRun
    from app.services.payments.stripe_events import apply_stripe_event

    events = [reqs.paid_event(booking) for booking in bookings]
    scenarios.store_received_events(engine, events)
    applies = []
    for e in events:
        started = time.perf_counter()
        with app.app_context():
            apply_stripe_event(e["id"])
        applies.append(time.perf_counter() - started)
    print(f"applies (which make the runs): {len(events)}, p50 {1000 * statistics.median(applies):.2f} ms")
    with engine.connect() as conn:
        return list(conn.scalars(
            select(AutomationRun.id).where(AutomationRun.booking_id.in_([b.id for b in bookings]),
                                           AutomationRun.kind == "booking_confirmation",
                                           AutomationRun.status == "scheduled").order_by(AutomationRun.id)))


def _runs(env, tenant, args) -> int:
    """run_automation on due confirmation runs vs the floor's one-row job, each call in an app
    context of its own (as a worker runs a job), in this process."""
    from app.services.automations.run_job import run_automation

    def prepare(app, engine):
        return iter(_due_confirmation_runs(app, engine, [next(pending) for _ in range(2 * args.n + 6)]))

    pending = iter(tenant.pending)
    return _job_vs_row(env, args, "runs", "run_automation", prepare, run_automation, "sent")


def _applies(env, tenant, args) -> int:
    """apply_stripe_event on stored paid events (each for its own pending booking: the booking is
    confirmed, its thread, window and runs made) vs the floor's one-row job, in this process."""
    from app.services.payments.stripe_events import apply_stripe_event

    def prepare(app, engine):
        events = [reqs.paid_event(booking) for booking in tenant.pending[:2 * args.n + 6]]
        scenarios.store_received_events(engine, events)
        return iter(e["id"] for e in events)

    return _job_vs_row(env, args, "applies", "apply_stripe_event", prepare, apply_stripe_event, "processed")


def _job_vs_row(env, args, label, name, prepare, job, expected) -> int:
    """`job` on the ids `prepare(app, engine)` gives vs the floor's one-row job: side by side, with
    statements and commits per call and a cProfile of `job`."""
    import logging

    os.environ.update(env)
    from app import create_app
    from app.extensions import db
    from bench.floor import one_row_job

    app = create_app(app_config(env))
    logging.getLogger().setLevel(logging.WARNING)
    engine = create_engine(env["DATABASE_URL"])
    ids = prepare(app, engine)
    rows = iter(range(10**9))

    def job_one():
        job_id = next(ids)
        with app.app_context():
            status = job(job_id)
        if status != expected:
            raise RuntimeError(f"{name}({job_id!r}): {status}")

    def row_one():
        with app.app_context():
            one_row_job(f"profile-{label}-{os.getpid()}-{next(rows)}")

    for _ in range(3):  # warm both sides (imports, compiled-statement caches, pool)
        job_one()
        row_one()
    with app.app_context():
        sql_engine = db.engine
    commits = []
    event.listen(sql_engine, "commit", lambda conn: commits.append(1))
    statements = _count(sql_engine, job_one)
    job_commits = len(commits)
    commits.clear()
    statements_row = _count(sql_engine, row_one)
    row_commits = len(commits)
    a, b = [], []
    for r in range(4):
        sides = ((a, job_one), (b, row_one))
        for out, call in sides if r % 2 == 0 else sides[::-1]:
            out.extend(_timed([call] * (args.n // 4)))
    med_a, med_b = statistics.median(a), statistics.median(b)
    print(
        f"{label}: {args.n} each side, {name} p50 {1000 * med_a:.2f} ms, one-row job p50 {1000 * med_b:.2f} ms, "
        f"one-row/{label} {med_b / med_a:.2f}; statements per call {statements} ({job_commits} commits), "
        f"one-row job {statements_row} ({row_commits} commits)"
    )
    if args.top:
        _profile([job_one] * (args.n // 2), args)
    with app.app_context():
        db.engine.dispose()
    engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
