"""docs/performance.md from one run's results: machine, command, goals, ratios, raw numbers.

The analysis (causes, fixes, before/after) is hand-written in bench/findings.md and appended.
"""

from __future__ import annotations

import dataclasses
import json
import statistics
from pathlib import Path

FINDINGS = Path(__file__).with_name("findings.md")
PHOTOS = Path(__file__).with_name("photos_results.md")  # written by `python -m bench.photos`
PAIR_KEYS = ("stripe", "inbound", "sends", "applies")

GOAL_WEBHOOK = 0.5  # full handler throughput ≥ 50 % of the bare endpoint's (inbound SMS)
# Issue 28: against the floor (bench/floor.py), not the app's own bare endpoints.
GOAL_STRIPE_WEBHOOK = 0.8  # the Stripe webhook ≥ 80 % of the floor's minimal endpoint …
GOAL_STRIPE_P99 = 1.5  # … and p99 at most 1.5 × the floor's, at every client count
GOAL_APPLY = 0.33  # Stripe apply jobs ≥ 33 % of the floor's one-row job rate
GOAL_BURST = 3.0  # the burst's p99 received → confirmation queued ≤ 3 × the floor's drain time
GOAL_DASHBOARD = 1.5  # latency at the largest org ≤ 1.5 × at the smallest
GOAL_SENDS = 0.5  # send jobs ≥ 50 % of the no-op job rate


def _f(x: float, digits: int = 1) -> str:
    return f"{x:,.{digits}f}"


def _met(ok: bool) -> str:
    return "met" if ok else "**missed**"


def webhook_rows(pairs) -> list[str]:
    rows = [
        "| clients | full req/s | bare req/s | throughput ratio | full p50 ms | bare p50 ms | p50 ratio "
        "| full p99 ms | bare p99 ms | p99 ratio |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for pair in pairs:
        c = pair.a[0]["concurrency"]
        rows.append(
            f"| {c} | {_f(pair.median('a', 'throughput'))} | {_f(pair.median('b', 'throughput'))} "
            f"| **{pair.ratio('throughput'):.2f}** "
            f"| {_f(pair.median('a', 'p50_ms'))} | {_f(pair.median('b', 'p50_ms'))} "
            f"| {pair.ratio('p50_ms'):.2f} | {_f(pair.median('a', 'p99_ms'))} | {_f(pair.median('b', 'p99_ms'))} "
            f"| {pair.ratio('p99_ms'):.2f} |"
        )
    return rows


def raw_runs(pairs, key_names=("throughput", "p50_ms", "p99_ms")) -> list[str]:
    lines = []
    for pair in pairs:
        for side, label in (("a", "full"), ("b", "bare")):
            runs = "; ".join(
                ", ".join(f"{k} {_f(run[k])}" for k in key_names) + f" ({run['requests']} req)"
                for run in getattr(pair, side)
            )
            lines.append(f"- {pair.name} {label}: {runs}")
    return lines


def dashboard_summary(dash: dict) -> tuple[list[str], dict]:
    sizes = sorted(dash["statements"])
    rows = ["| URL | bookings | p50 ms | p99 ms | SQL statements |", "|---|---:|---:|---:|---:|"]
    verdicts = {}
    for url, by_size in dash["latency"].items():
        p50 = {size: statistics.median(run["p50_ms"] for run in by_size[size]) for size in sizes}
        for size in sizes:
            p99 = statistics.median(run["p99_ms"] for run in by_size[size])
            rows.append(f"| `{url}` | {size:,} | {_f(p50[size])} | {_f(p99)} | {dash['statements'][size][url]} |")
        # Ratio per round (sizes measured side by side), then the median.
        per_round = [
            big["p50_ms"] / small["p50_ms"] for big, small in zip(by_size[sizes[-1]], by_size[sizes[0]], strict=True)
        ]
        ratio = statistics.median(per_round)
        same_count = len({dash["statements"][size][url] for size in sizes}) == 1
        verdicts[url] = (ratio, same_count)
        rows.append(
            f"| `{url}` | **{sizes[-1]:,} / {sizes[0]:,}** | **{ratio:.2f}×** | | "
            f"{'same' if same_count else '**differs**'} |"
        )
    return rows, verdicts


def render(results: dict) -> str:
    m, plan = results["machine"], results["plan"]
    dash_rows, dash_verdicts = dashboard_summary(results["dashboard"])
    goals = []
    worst = min(p.ratio("throughput") for p in results["stripe"])
    worst_p99 = max(p.ratio("p99_ms") for p in results["stripe"])
    goals.append(
        f"| Stripe webhook throughput ≥ 80 % of the floor endpoint (worst of 1/8/32 clients) | {worst:.2f} "
        f"| {_met(worst >= GOAL_STRIPE_WEBHOOK)} |"
    )
    goals.append(
        f"| Stripe webhook p99 ≤ 1.5 × the floor endpoint (worst of 1/8/32 clients) | {worst_p99:.2f}× "
        f"| {_met(worst_p99 <= GOAL_STRIPE_P99)} |"
    )
    worst = min(p.ratio("throughput") for p in results["inbound"])
    goals.append(
        f"| Inbound SMS throughput ≥ 50 % of bare (worst of 1/8/32 clients) | {worst:.2f} "
        f"| {_met(worst >= GOAL_WEBHOOK)} |"
    )
    for url, (ratio, same) in dash_verdicts.items():
        goals.append(
            f"| `{url}` latency at largest ≤ 1.5 × smallest, same statement count | {ratio:.2f}×, "
            f"statements {'same' if same else 'differ'} | {_met(ratio <= GOAL_DASHBOARD and same)} |"
        )
    sends = {p.name: p for p in results["sends"]}
    for pair in results["sends"]:
        r = pair.ratio("jobs_per_second")
        goals.append(f"| {pair.name}: send jobs ≥ 50 % of no-op job rate | {r:.2f} | {_met(r >= GOAL_SENDS)} |")
    dup = results["duplicates"]
    goals.append(
        f"| 200 duplicate deliveries of 20 paid bookings → 20 threads / windows / confirmations, "
        f"no non-2xx | {dup['threads']} / {dup['windows']} / {dup['confirmation_messages_sent']}, "
        f"{dup['non_2xx']} non-2xx | {_met(dup['ok'])} |"
    )
    if "reconcile" in results:
        by_size = results["reconcile"]
        sizes = sorted(by_size, key=int)
        small, large = by_size[sizes[0]], by_size[sizes[-1]]
        same = small["statements"] == large["statements"]
        goals.append(f"| reconcile: SQL statements per pass the same at 1,000 and 100,000 messages | "
                     f"{'/'.join(map(str, small['statements']))} and {'/'.join(map(str, large['statements']))} "
                     f"| {_met(same)} |")
    latency = results.get("stripe_latency")
    if latency:
        burst = burst_ratio(latency)
        goals.append(
            f"| {latency['events']}-event burst ({latency['concurrency']} clients, {latency['workers']} workers): "
            f"p99 received → confirmation queued ≤ 3 × the floor's drain of as many one-row jobs "
            f"| p99 {_f(latency['p99_ms'])} ms / floor {_f(1000 * latency['floor_drain_seconds'])} ms = "
            f"{burst:.2f}× | {_met(burst <= GOAL_BURST)} |"
            if burst is not None else
            f"| Stripe event received → confirmation text queued, {latency['concurrency']} clients, "
            f"{latency['workers']} workers (no floor in this run) | p50 {_f(latency['p50_ms'])} ms, "
            f"p99 {_f(latency['p99_ms'])} ms | – |"
        )
    applies = results.get("applies") or []
    for pair in applies:
        r = pair.ratio("jobs_per_second")
        goals.append(f"| Stripe apply jobs ≥ 33 % of the floor's one-row job rate (one worker) "
                     f"| {r:.2f} ({_f(pair.median('a', 'jobs_per_second'))}/s) | {_met(r >= GOAL_APPLY)} |")
    forking = sends["sends forking"].median("a", "jobs_per_second")
    simple = sends["sends simple"].median("a", "jobs_per_second")
    lines = [
        "# Performance",
        "",
        "Written by the benchmark run; do not edit by hand (re-run it instead).",
        "",
        f"- Command: `{results['command']}` (takes {results['seconds']:.0f} s)",
        f"- Date: {m['date']}",
        f"- Machine: {m['nproc']} CPUs; `{m['uname']}`; load average at start {m['load_average']}",
        f"- Python {m['python']}, PostgreSQL {m['postgresql']}, Redis {m['redis']}",
        "- Stack: gunicorn (gthread, 2 workers × 4 threads) serving the app in production mode on PostgreSQL + "
        "Redis; load from a second process on loopback (closed loop, keep-alive). The machine is shared with "
        "other test runs, so every figure is a ratio of two measurements interleaved in this run "
        "(A B, B A, …; medians over rounds). PostgreSQL runs a CHECKPOINT after seeding and before the sends, "
        "so one phase's writes are not flushed during the next.",
        f"- Plan: {plan}",
        "",
        "## Goals",
        "",
        "| goal | measured | |",
        "|---|---:|---|",
        *goals,
        "",
        *before_after(results.get("before"), results),
        "## 1. Stripe webhook vs the floor's minimal endpoint",
        "",
        "Full: a signed `checkout.session.completed` for a fresh pending booking each time. Since issue 19 the "
        "request verifies the signature, stores the event (one `INSERT … ON CONFLICT DO NOTHING` of the verified "
        "body) and hands its apply job to Redis (the `stripe` queue); no worker runs during this phase, so "
        "this is the request alone. Floor (`bench/floor.py`, its own gunicorn with the same settings): a "
        "Flask app with none of the app's hooks, Stripe's `construct_event` and one insert.",
        "",
        *webhook_rows(results["stripe"]),
        "",
        "## 2. Inbound SMS webhook vs the bare endpoint",
        "",
        "Full: a signed Twilio inbound text from a client to the number of their thread with an open window "
        "(routed `active_window`). Bare (`/bench/bare/twilio`): the same signature check and one insert.",
        "",
        *webhook_rows(results["inbound"]),
        "",
        "## 3. Sitter dashboard by org size",
        "",
        "Each org has 10 sitters; the measured sitter holds a tenth of the bookings and sees the same page at "
        "every size (3 open windows, 2 cancelled visits today, 3 alerts). Every booking has a thread, a window "
        "and three texts. One request at a time; sizes measured in rotating order each round. Statements "
        "counted in-process with a `before_cursor_execute` listener against the same database.",
        "",
        *dash_rows,
        "",
        "## 4. Outbound sends through RQ vs a no-op job",
        "",
        "One worker in burst mode drains the `default` queue: `app.jobs.send_message` (queued message → "
        "`outbox` provider) vs `bench.jobs.noop` (same worker, same app context, no work). Rate: jobs from "
        "the first job's start to the last one's end (RQ's own timestamps), so worker start-up is left out.",
        "",
        "| worker | send jobs/s | no-op jobs/s | ratio |",
        "|---|---:|---:|---:|",
        *[
            f"| {p.name.split()[1]} | {_f(p.median('a', 'jobs_per_second'))} | "
            f"{_f(p.median('b', 'jobs_per_second'))} | **{p.ratio('jobs_per_second'):.2f}** |"
            for p in results["sends"]
        ],
        "",
        f"Send jobs per second, non-forking / forking: **{simple / forking:.1f}×**.",
        "",
        "## 5. Duplicate deliveries under load",
        "",
        "20 pending bookings, each paid by a `checkout.session.completed` and a `payment_intent.succeeded` "
        "(40 event ids), each delivered 5 times: 200 deliveries at once, then one worker drains the queues "
        "(`stripe`, `automations`, `default`).",
        "",
        "| | count |",
        "|---|---:|",
        *[f"| {k.replace('_', ' ')} | {v if not isinstance(v, float) else _f(v, 2)} |" for k, v in dup.items()],
        "",
        PHOTOS.read_text() if PHOTOS.exists() else "",
        *stripe_apply_sections(latency, applies),
        *_reconcile_section(results),
        FINDINGS.read_text() if FINDINGS.exists() else "",
        "## Raw runs",
        "",
        *raw_runs(results["stripe"]),
        *raw_runs(results["inbound"]),
        *[
            f"- dashboard `{url}` {size:,}: " + "; ".join(f"p50 {_f(r['p50_ms'])}, p99 {_f(r['p99_ms'])}" for r in runs)
            for url, by_size in results["dashboard"]["latency"].items()
            for size, runs in by_size.items()
        ],
        *[
            f"- {p.name} {label}: "
            + "; ".join(
                f"{_f(r['jobs_per_second'])} jobs/s ({r['processed']} jobs over {_f(r['job_span_seconds'], 2)} s; "
                f"{_f(r['seconds'], 2)} s with worker start-up)"
                for r in getattr(p, side)
            )
            for p in [*results["sends"], *applies]
            for side, label in (("a", "send" if p.name.startswith("sends") else "apply"),
                                ("b", "no-op" if p.name.startswith("sends") else "one-row"))
        ],
        "",
    ]
    return "\n".join(lines)


def _reconcile_section(results: dict) -> list[str]:
    """Section 8 (bench/reconcile.py), between the markers its standalone run rewrites."""
    from bench import reconcile

    if "reconcile" not in results:
        return []
    return [reconcile.START, *reconcile.rows(results["reconcile"]), reconcile.END, ""]


def _hot_path_figures(results: dict) -> dict[str, str]:
    """The issue-28 ratios of one run, by row label (missing ones left out)."""
    figures = {}
    for pair in results.get("stripe") or []:
        c = pair.a[0]["concurrency"]
        figures[f"Stripe webhook / floor endpoint, throughput, {c} clients (goal ≥ 0.80)"] = \
            f"{pair.ratio('throughput'):.2f}"
        figures[f"Stripe webhook / floor endpoint, p99, {c} clients (goal ≤ 1.50)"] = f"{pair.ratio('p99_ms'):.2f}×"
    latency = results.get("stripe_latency")
    if latency and burst_ratio(latency) is not None:
        figures["Burst p99 received → confirmation queued / floor drain (goal ≤ 3.00)"] = (
            f"{burst_ratio(latency):.2f}× ({_f(latency['p99_ms'] / 1000, 2)} s / "
            f"{_f(latency['floor_drain_seconds'], 2)} s)")
    for pair in results.get("applies") or []:
        figures["Stripe apply jobs / one-row jobs (goal ≥ 0.33)"] = (
            f"{pair.ratio('jobs_per_second'):.2f} ({_f(pair.median('a', 'jobs_per_second'))}/s)")
    for pair in results.get("sends") or []:
        figures[f"{pair.name}: send jobs / no-op jobs (goal ≥ 0.50)"] = (
            f"{pair.ratio('jobs_per_second'):.2f} ({_f(pair.median('a', 'jobs_per_second'))}/s)")
    for pair in results.get("inbound") or []:
        c = pair.a[0]["concurrency"]
        figures[f"Inbound SMS / bare, throughput, {c} clients (goal ≥ 0.50)"] = f"{pair.ratio('throughput'):.2f}"
    return figures


def before_after(before: dict | None, after: dict) -> list[str]:
    """Issue 28's ratios before (main as found, its own run) and after (this run), side by side."""
    if not before:
        return []
    old, new = _hot_path_figures(before), _hot_path_figures(after)
    m = before["machine"]
    return [
        "## Before and after (issue 28)",
        "",
        f"Before: the tree as found at `{before.get('tree', 'main')}` with this bench (`--only hot-paths`), run "
        f"{m['date']}, load average at its start {m['load_average']}. After: this run. Each figure is a ratio "
        "of two sides measured interleaved within its own run; the two runs are minutes apart on the same "
        "shared machine.",
        "",
        "| figure | before | after |",
        "|---|---:|---:|",
        *[f"| {label} | {old.get(label, '–')} | {new.get(label, '–')} |"
          for label in [*new, *(k for k in old if k not in new)]],
        "",
    ]


def burst_ratio(latency: dict) -> float | None:
    floor = latency.get("floor_drain_seconds")
    return latency["p99_ms"] / (1000 * floor) if floor else None


def stripe_apply_sections(latency: dict | None, applies: list) -> list[str]:
    """Sections 6 and 7 (issue 19): what the job that applies a stored Stripe event costs."""
    lines = []
    if latency:
        lines += [
            "## 6. Stripe: event received → confirmation text queued",
            "",
            f"{latency['events']} paid events for fresh bookings, posted by {latency['concurrency']} clients while "
            f"{latency['workers']} worker processes (the app's queue order, non-forking) run. For "
            "each event: from its row's `created_at` (stored by the request) to its confirmation `Message` row's "
            "`created_at` (`queued`): the apply job, then the confirmation automation's job. Both clocks are "
            "this machine's. Floor: as many one-row jobs (`bench.floor.one_row_job`) enqueued at once on "
            f"the `stripe` queue while {latency['workers']} worker processes run (started and registered "
            "first, as for the burst); seconds from the enqueue to the last row written, measured just "
            "before the burst.",
            "",
            "| events | p50 ms | p99 ms | max ms | webhook req/s meanwhile | webhook p99 ms | all posted in s "
            "| first stored → last queued, s | confirmations queued/s |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
            f"| {latency['events']} | {_f(latency['p50_ms'])} | {_f(latency['p99_ms'])} | {_f(latency['max_ms'])} "
            f"| {_f(latency['webhook_throughput'])} | {_f(latency['webhook_p99_ms'])} "
            f"| {_f(latency.get('posting_seconds', 0), 2)} | {_f(latency.get('drain_seconds', 0), 2)} "
            f"| {_f(latency['events'] / latency['drain_seconds'] if latency.get('drain_seconds') else 0)} |",
            "",
        ]
        if latency.get("floor_drain_seconds"):
            lines += [
                f"Floor drain: {_f(latency['floor_drain_seconds'], 2)} s; "
                f"burst p99 / floor drain: **{burst_ratio(latency):.2f}×**.",
                "",
            ]
    for pair in applies:
        lines += [
            "## 7. Stripe events applied per second per worker vs the floor's one-row job",
            "",
            "One non-forking worker in burst mode drains the `stripe` queue: `app.jobs.apply_stripe_event` on "
            "stored paid events (each for its own pending booking: payment, confirmation, number, thread, "
            "window, audit, automation runs) vs `bench.floor.one_row_job` (same worker, same app context, one "
            "insert and commit).",
            "",
            "| apply jobs/s | one-row jobs/s | ratio |",
            "|---:|---:|---:|",
            f"| {_f(pair.median('a', 'jobs_per_second'))} | {_f(pair.median('b', 'jobs_per_second'))} "
            f"| **{pair.ratio('jobs_per_second'):.2f}** |",
            "",
        ]
    return lines


def dump(results: dict) -> str:
    """A run's raw results as JSON (Pairs as plain objects), for `load` and `--render`."""
    plain = {k: [dataclasses.asdict(p) for p in v] if k in PAIR_KEYS else v for k, v in results.items()}
    if results.get("before"):
        plain["before"] = json.loads(dump(results["before"]))
    return json.dumps(plain, indent=1, default=str)


def load(text: str) -> dict:
    """`dump`'s JSON back into what `render` takes (JSON keeps no int keys and no Pairs)."""
    from bench.scenarios import Pair

    results = json.loads(text)
    for key in PAIR_KEYS:
        results[key] = [Pair(**p) for p in results.get(key, [])]
        for pair in results[key]:
            for run in pair.a + pair.b:
                if "statuses" in run:
                    run["statuses"] = {int(k): v for k, v in run["statuses"].items()}
    if results.get("before"):
        results["before"] = load(json.dumps(results["before"]))
    if "dashboard" not in results:  # a `--only hot-paths` run
        return results
    dash = results["dashboard"]
    dash["statements"] = {int(k): v for k, v in dash["statements"].items()}
    dash["latency"] = {url: {int(k): v for k, v in by_size.items()} for url, by_size in dash["latency"].items()}
    return results


def summary(results: dict) -> str:
    """The goal table only, for the terminal."""
    text = render(results)
    start = text.index("## Goals")
    return text[start : text.index("## 1.")]
