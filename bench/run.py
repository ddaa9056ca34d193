"""`.venv/bin/python -m bench.run [--quick]`: every benchmark in one run; results to docs/performance.md.

Needs the local PostgreSQL and Redis the test suite uses. Every figure is a ratio of
two measurements taken side by side (interleaved), because the machine is shared.
"""

from __future__ import annotations

import argparse
import sys
import time
from contextlib import ExitStack
from pathlib import Path

from sqlalchemy import create_engine

from bench import reconcile as reconcile_bench
from bench import report, scenarios, seed
from bench import requests as reqs
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
from bench.sitter_phone import carry_section

FULL = {
    "rounds": 3,
    "per_run": 200,
    "per_client": 15,
    "concurrency": (1, 8, 32),
    "dashboard_sizes": (10, 1_000, 100_000),
    "dashboard_rounds": 5,
    "dashboard_per_run": 15,
    "send_rounds": 5,
    "sends_per_run": 200,
    "reconcile_rounds": 5,
    "apply_rounds": 4,
    "applies_per_run": 150,
    "burst_events": 400,
}
QUICK = {
    "rounds": 2,
    "per_run": 80,
    "per_client": 8,
    "concurrency": (1, 8, 32),
    "dashboard_sizes": (10, 1_000, 10_000),
    "dashboard_rounds": 3,
    "dashboard_per_run": 8,
    "send_rounds": 2,
    "sends_per_run": 80,
    "reconcile_rounds": 2,
    "apply_rounds": 2,
    "applies_per_run": 80,
    "burst_events": 400,
}
# tests/test_bench_smoke.py: every scenario once, on tiny sizes, through the real app (no timing judged).
SMOKE = {
    "rounds": 1,
    "per_run": 4,
    "per_client": 1,
    "concurrency": (1, 2),
    "dashboard_sizes": (10, 20),
    "dashboard_rounds": 1,
    "dashboard_per_run": 2,
    "send_rounds": 1,
    "sends_per_run": 3,
    "reconcile_rounds": 1,
    "apply_rounds": 1,
    "applies_per_run": 3,
    "burst_events": 6,
}
TENANTS = 4
ACTIVE_THREADS_PER_TENANT = 50
DUPLICATE_BOOKINGS = 20
LATENCY_CLIENTS = 32
LATENCY_WORKERS = 2
LAST_RUN = ROOT / "bench" / ".last-run.json"
BEFORE = ROOT / "bench" / "before.json"  # issue 28: main as found, measured by this bench


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer requests, dashboard up to 10,000 bookings")
    parser.add_argument("--out", default=str(ROOT / "docs" / "performance.md"))
    parser.add_argument("--json", default=str(LAST_RUN), help=f"raw results (default: {LAST_RUN.name})")
    parser.add_argument(
        "--render",
        metavar="JSON",
        help="measure nothing: rewrite --out from a run's raw results (after editing bench/findings.md)",
    )
    parser.add_argument("--only", choices=("dashboard", "hot-paths", "stripe-lean", "burst"),
                        help="dashboard: only the dashboard sizes (prints the table); hot-paths: only the webhooks, "
                             "the burst, applies and sends (raw results to --json, nothing rendered); "
                             "stripe-lean: only the Stripe webhook vs the floor's verify_header endpoint (prints); "
                             "burst: only the burst of paid events vs its floor (section 6; prints)")
    parser.add_argument("--smoke", action="store_true", help=argparse.SUPPRESS)  # the suite's smoke test
    parser.add_argument("--before", metavar="JSON", default=str(BEFORE) if BEFORE.exists() else None,
                        help=f"a run's raw results to show beside this one (default: {BEFORE.name} when present)")
    parser.add_argument("--tree", help="with --only hot-paths: what tree this is (named in the before/after table)")
    args = parser.parse_args(argv)
    if args.render:
        rendered = report.render(report.load(Path(args.render).read_text()))
        Path(args.out).write_text(carry_section(Path(args.out), rendered))
        log(f"wrote {args.out} from {args.render}")
        return 0
    plan = SMOKE if args.smoke else QUICK if args.quick else FULL
    command = "./scripts/bench" + (" --quick" if args.quick else " --smoke" if args.smoke else "")
    started = time.perf_counter()
    results = {
        "plan": {k: list(v) if isinstance(v, tuple) else v for k, v in plan.items()},
        "machine": scenarios.machine(),
        "command": command,
    }
    if args.tree:
        results["tree"] = args.tree
    if args.before and not args.smoke and args.only is None:
        results["before"] = report.load(Path(args.before).read_text())
    with ExitStack() as stack:
        redis_url = stack.enter_context(redis_database())
        if args.only == "dashboard":
            rows, _ = report.dashboard_summary(dashboard(plan, redis_url, stack))
            print("\n".join(rows))
            return 0
        if args.only == "stripe-lean":
            out = webhooks_and_sends(plan, redis_url, stack, only="stripe-lean")
            Path(args.json).write_text(report.dump({**results, **out}))
            print("\n".join(report.webhook_rows(out["stripe"])))
            return 0
        if args.only == "burst":
            out = webhooks_and_sends(plan, redis_url, stack, only="burst")
            Path(args.json).write_text(report.dump({**results, **out}))
            print("\n".join(report.stripe_apply_sections(out["stripe_latency"], [])))
            return 0
        if args.only == "hot-paths":  # e.g. the "before" side of docs/performance.md (bench/before.json)
            results.update(webhooks_and_sends(plan, redis_url, stack))
            results["seconds"] = time.perf_counter() - started
            Path(args.json).write_text(report.dump(results))
            log(f"wrote {args.json} in {results['seconds']:.0f} s")
            return 0
        results.update(webhooks_and_sends(plan, redis_url, stack))
        log(f"[{scenarios.elapsed(started)}] webhooks, duplicates and sends done")
        results["dashboard"] = dashboard(plan, redis_url, stack)
        log(f"[{scenarios.elapsed(started)}] dashboard done")
        results["reconcile"] = reconcile_bench.measure(redis_url, stack, plan["reconcile_rounds"],
                                                       smoke=args.smoke)
        log(f"[{scenarios.elapsed(started)}] reconcile done")
    results["seconds"] = time.perf_counter() - started
    Path(args.json).write_text(report.dump(results))
    Path(args.out).write_text(carry_section(Path(args.out), report.render(results)))
    log(f"wrote {args.out} in {results['seconds']:.0f} s")
    print(report.summary(results))
    return 0


def webhooks_and_sends(plan: dict, redis_url: str, stack: ExitStack, only: str | None = None) -> dict:
    """The webhook, burst, apply and send scenarios; `only`: "stripe-lean" or "burst", that one alone."""
    url = fresh_database("pawline_bench")
    stack.callback(drop_database, url)
    env = bench_env(url, redis_url)
    sizes = [scenarios.run_size(plan, c) for c in plan["concurrency"]]
    latency_events = plan["burst_events"]
    apply_events = plan["apply_rounds"] * plan["applies_per_run"]
    per_tenant = (plan["rounds"] * sum(sizes) + DUPLICATE_BOOKINGS + latency_events + apply_events) // TENANTS + 1
    engine = create_engine(url)
    with engine.begin() as conn:
        seed.fast_bulk_load(conn)
        tenants = [
            seed.seed_webhook_tenant(conn, i + 1, per_tenant, ACTIVE_THREADS_PER_TENANT, scenarios.now_utc())
            for i in range(TENANTS)
        ]
    engine.dispose()
    checkpoint(url)
    # Round-robin over the tenants, as deliveries for many businesses arrive.
    pending = [b for group in zip(*(t.pending for t in tenants), strict=True) for b in group]
    duplicates, pending = pending[:DUPLICATE_BOOKINGS], pending[DUPLICATE_BOOKINGS:]
    for_latency, pending = pending[:latency_events], pending[latency_events:]
    for_applies, pending = pending[:apply_events], pending[apply_events:]
    out = {}
    with gunicorn(env) as port, gunicorn(env, target="bench.floor:build_floor_app()") as floor_port:
        if only == "stripe-lean":
            log("1. stripe webhook vs the floor's verify_header endpoint")
            return {"stripe": scenarios.stripe_vs_floor(port, floor_port, pending, plan,
                                                        floor_path=reqs.FLOOR_STRIPE_LEAN_PATH)}
        if only == "burst":
            return {"stripe_latency": received_to_queued(port, env, for_latency)}
        log("5. duplicate deliveries")
        out["duplicates"] = scenarios.duplicate_deliveries(port, env, duplicates)
        log("1. stripe webhook vs the floor's minimal endpoint")
        out["stripe"] = scenarios.stripe_vs_floor(port, floor_port, pending, plan)
        log("2. inbound sms vs bare")
        out["inbound"] = scenarios.inbound_vs_bare(port, tenants, plan)
        out["stripe_latency"] = received_to_queued(port, env, for_latency)
    log("7. stripe applies vs the floor's one-row job")
    checkpoint(url)
    out["applies"] = [scenarios.applies_vs_floor(env, for_applies, plan["apply_rounds"], plan["applies_per_run"])]
    log("4. sends vs no-op job")
    checkpoint(url)
    out["sends"] = scenarios.sends_vs_noop(env, tenants[0], plan["send_rounds"], plan["sends_per_run"])
    return out


def received_to_queued(port: int, env: dict, bookings: list) -> dict:
    log(f"6. stripe event received → confirmation queued ({LATENCY_CLIENTS} clients, {LATENCY_WORKERS} workers)")
    return scenarios.received_to_queued(port, env, bookings, LATENCY_CLIENTS, LATENCY_WORKERS)


def dashboard(plan: dict, redis_url: str, stack: ExitStack) -> dict:
    from app import create_app

    sites = []
    for index, size in enumerate(plan["dashboard_sizes"]):
        log(f"3. seeding an org with {size:,} bookings")
        url = fresh_database(f"pawline_bench_dash_{size}")
        stack.callback(drop_database, url)
        engine = create_engine(url)
        with engine.begin() as conn:
            org = seed.seed_dashboard_org(conn, 100 + index, size, scenarios.now_utc())
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")  # after the commit: fresh planner statistics
        engine.dispose()
        env = bench_env(url, redis_url)
        app = create_app(app_config(env))
        token = scenarios.log_in(app, org.user_id)
        statements = scenarios.count_statements(app, token)
        cookie = scenarios.session_cookie(app, token)
        from app.extensions import db

        with app.app_context():
            db.engine.dispose()
        port = stack.enter_context(gunicorn(env, workers=1, threads=2))
        sites.append(scenarios.DashboardSite(size, env, port, cookie, statements))
    log("3. dashboard latency")
    latency = scenarios.dashboard_latency(sites, plan["dashboard_rounds"], plan["dashboard_per_run"])
    return {"statements": {site.bookings: site.statements for site in sites}, "latency": latency}


if __name__ == "__main__":
    sys.exit(main())
