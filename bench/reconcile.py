"""`python -m bench.reconcile`: reconcile at 1,000 and 100,000 messages, 1,000 of them queued.

Per size: a lost pass (Redis flushed: reconcile re-enqueues all 1,000 send jobs) beside a
no-op pass (every job still held: nothing to do), interleaved over rounds, medians. SQL
statements are counted per pass and per batch; they must be the same at both sizes (one
indexed SELECT per batch, whatever the table holds). Writes its section of
docs/performance.md (between the reconcile markers); `./scripts/bench` runs it too.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, event, text

from bench import seed
from bench.server import ROOT, app_config, bench_env, drop_database, fresh_database, redis_database

SIZES = (1_000, 100_000)
DUE = 1_000
ROUNDS = 5
START, END = "<!-- reconcile:start -->", "<!-- reconcile:end -->"


def log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def seed_messages(url: str, total: int, due: int) -> None:
    """`total` outbound texts of one org; `due` of them (spread evenly) still `queued`."""
    from app.models import Message

    engine = create_engine(url)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        seed.fast_bulk_load(conn)
        org_id = seed.add_org(conn, "Reconcile bench")
        desk, _pool, _ = seed.add_numbers(conn, org_id, 1, 0)
        every = total // due
        seed.add(conn, Message, [
            {"org_id": org_id, "direction": "outbound", "sender_kind": "automation", "body": f"Text {i}",
             "status": "queued" if i % every == 0 else "delivered", "message_number_id": desk,
             "from_e164": "+16462001000", "to_e164": seed.client_phone(i), "attempts": 0,
             "created_at": now - timedelta(seconds=total - i), "updated_at": now, "owner_inbox": False}
            for i in range(total)])
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE"))
    engine.dispose()


def measure_size(url: str, redis_url: str, rounds: int, due: int = DUE) -> dict:
    from redis import Redis

    from app import create_app
    from app.extensions import db
    from app.services.ops.reconcile import BATCH_SIZE, reconcile

    app = create_app(app_config(bench_env(url, redis_url)))
    redis = Redis.from_url(redis_url)
    seen: list[str] = []
    with app.app_context():
        engine = db.engine

        def listener(conn, cursor, statement, *args):
            seen.append(statement)

        def one_pass(lose_jobs: bool) -> tuple[float, int, int]:
            if lose_jobs:
                redis.flushdb()
            seen.clear()
            event.listen(engine, "before_cursor_execute", listener)
            started = time.perf_counter()
            try:
                report = reconcile()
            finally:
                event.remove(engine, "before_cursor_execute", listener)
            seconds = time.perf_counter() - started
            if not report.ok:
                raise RuntimeError(f"reconcile failed: {report.errors}")
            return seconds, report.counts["messages_queued"], len(seen)

        one_pass(True)  # warm: statement caches, connections
        lost, noop = [], []
        for index in range(rounds):  # A B, B A, …: the shared machine's drift hits both sides
            order = (True, False) if index % 2 == 0 else (False, True)
            for lose in order:
                if not lose and index % 2 == 1:
                    one_pass(True)  # a no-op pass needs the jobs in Redis
                (lost if lose else noop).append(one_pass(lose))
        db.engine.dispose()
    redis.flushdb()
    redis.close()
    re_enqueued = {r[1] for r in lost}
    statements = {r[2] for r in lost} | {r[2] for r in noop}
    if re_enqueued != {due} or {r[1] for r in noop} != {0}:
        raise RuntimeError(f"unexpected counts: lost {re_enqueued}, no-op {[r[1] for r in noop]}")
    # Batches of the queued-message walk: full ones, then the short (or empty) one that ends it.
    batches = due // BATCH_SIZE + 1
    return {
        "lost_ms": statistics.median(r[0] for r in lost) * 1000,
        "noop_ms": statistics.median(r[0] for r in noop) * 1000,
        "lost_runs_ms": [round(r[0] * 1000, 1) for r in lost],
        "noop_runs_ms": [round(r[0] * 1000, 1) for r in noop],
        "statements": sorted(statements),
        "queued_batches": batches,
        "batch_size": BATCH_SIZE,
    }


def measure(redis_url: str, stack: ExitStack, rounds: int = ROUNDS, smoke: bool = False) -> dict:
    """`smoke`: tiny sizes (the suite's smoke test drives the code, judges no timing)."""
    out = {}
    sizes, due = ((100, 1_000), 50) if smoke else (SIZES, DUE)
    for total in sizes:
        log(f"6. reconcile: seeding {total:,} messages ({due:,} queued)")
        url = fresh_database(f"pawline_bench_reconcile_{total}")
        stack.callback(drop_database, url)
        seed_messages(url, total, due)
        log(f"6. reconcile at {total:,} messages")
        out[str(total)] = measure_size(url, redis_url, rounds, due)
    return out


def rows(results: dict) -> list[str]:
    sizes = sorted(results, key=int)
    small, large = results[sizes[0]], results[sizes[-1]]
    same = small["statements"] == large["statements"] and len(small["statements"]) == 1
    lines = [
        "## 8. Reconcile by table size",
        "",
        f"`app.services.ops.reconcile.reconcile()` over every reconciler (queued and stuck texts, due runs, stored "
        f"callbacks) with {DUE:,} texts `queued`, the rest `delivered`. Lost: Redis flushed first, so all "
        f"{DUE:,} send jobs are re-enqueued (batches of {small['batch_size']}: one SELECT and one Redis "
        "pipeline asking which jobs are held, one pipeline re-enqueueing the lost ones). No-op: the same pass "
        "with every job still in Redis (the steady state of the periodic reconcile). Interleaved rounds, "
        "medians; SQL statements counted with a `before_cursor_execute` listener.",
        "",
        "| messages | lost pass ms | no-op pass ms | lost / no-op | SQL statements per pass "
        "| per batch of queued texts |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for size in sizes:
        r = results[size]
        statements = "/".join(str(s) for s in r["statements"])
        lines.append(f"| {int(size):,} | {r['lost_ms']:.1f} | {r['noop_ms']:.1f} | {r['lost_ms'] / r['noop_ms']:.2f} "
                     f"| {statements} | 1 SELECT × {r['queued_batches']} batches |")
    lines += [
        "",
        f"Statements per pass at {int(sizes[0]):,} and {int(sizes[-1]):,} messages: "
        f"**{'the same' if same else 'different'}**; lost-pass time {int(sizes[-1]):,} / {int(sizes[0]):,}: "
        f"**{large['lost_ms'] / small['lost_ms']:.2f}×**.",
        "",
        *[f"- reconcile {int(size):,}: lost {results[size]['lost_runs_ms']} ms; "
          f"no-op {results[size]['noop_runs_ms']} ms" for size in sizes],
        "",
    ]
    return lines


def write_section(doc: Path, results: dict) -> None:
    """Put this benchmark's section into docs/performance.md between its markers."""
    section = "\n".join([START, *rows(results), END])
    current = doc.read_text() if doc.exists() else "# Performance\n"
    if START in current and END in current:
        before, rest = current.split(START, 1)
        current = before + section + rest.split(END, 1)[1]
    elif "## Raw runs" in current:
        before, after = current.split("## Raw runs", 1)
        current = before + section + "\n\n## Raw runs" + after
    else:
        current = current.rstrip("\n") + "\n\n" + section + "\n"
    doc.write_text(current)


def main(argv=None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m bench.reconcile", description=__doc__)
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--out", default=str(ROOT / "docs" / "performance.md"))
    args = parser.parse_args(argv)
    with ExitStack() as stack:
        redis_url = stack.enter_context(redis_database())
        results = measure(redis_url, stack, args.rounds)
    write_section(Path(args.out), results)
    print(json.dumps(results, indent=1))
    log(f"wrote the reconcile section of {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
