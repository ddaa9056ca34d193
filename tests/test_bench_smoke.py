"""The benchmark code must keep importing and working: a handful of requests, no timing asserted.

`test_every_scenario_runs_through_the_real_app` runs `bench.run` itself on tiny sizes (gunicorn,
workers, the floor app, PostgreSQL and Redis), so a guard or a route change that breaks the
bench fails the suite instead of the next `./scripts/bench`.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bench import floor, jobs, load, report, requests, run, scenarios, seed, server  # noqa: F401


class _Echo(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as gunicorn answers

    def do_POST(self):  # noqa: N802 - the stdlib's naming
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        status = 200 if body.startswith(b"{") else 400
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def echo_server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


def test_load_generator_sends_every_request_and_counts_statuses(echo_server):
    booking = seed.PendingBooking(id=7, org_id=3)
    good = requests.signed_stripe([requests.paid_event(booking) for _ in range(5)])
    bad = [load.Prepared("POST", "/x", b"not json", {})]
    result = load.run_in_child(echo_server, good + bad, concurrency=2)
    assert result["requests"] == 6
    assert result["statuses"] == {200: 5, 400: 1}
    assert result["p50_ms"] <= result["p99_ms"]


def test_signed_requests_verify_as_the_app_checks_them():
    import stripe
    from twilio.request_validator import RequestValidator

    prepared = requests.signed_stripe([requests.paid_event(seed.PendingBooking(id=1, org_id=1))])[0]
    event = stripe.Webhook.construct_event(prepared.body, prepared.headers["Stripe-Signature"], server.STRIPE_SECRET)
    assert event["data"]["object"]["metadata"]["booking_id"] == "1"

    route = seed.InboundRoute(org_id=1, client_phone="+12023000001", number_e164="+16462001001", thread_id=1)
    sms = requests.inbound_sms([route], 1, bare=True)[0]
    from urllib.parse import parse_qsl

    fields = dict(parse_qsl(sms.body.decode()))
    assert RequestValidator(server.TWILIO_TOKEN).validate(
        server.PUBLIC_BASE_URL + sms.path, fields, sms.headers["X-Twilio-Signature"]
    )
    assert fields["From"] == route.client_phone and fields["To"] == route.number_e164


def test_report_renders_ratios_from_interleaved_runs():
    def run_(tput, p50):
        return {
            "throughput": tput,
            "p50_ms": p50,
            "p99_ms": 2 * p50,
            "requests": 10,
            "concurrency": 1,
            "statuses": {200: 10},
        }

    pair = scenarios.Pair("stripe c=1", a=[run_(10, 40), run_(12, 50)], b=[run_(40, 10), run_(40, 10)])
    assert pair.ratio("throughput") == pytest.approx((10 / 40 + 12 / 40) / 2)
    assert "| 1 |" in "\n".join(report.webhook_rows([pair]))


def test_raw_results_round_trip_to_the_same_report():
    """`--render` rewrites docs/performance.md from a saved run: the report must be identical."""

    def web(tput):
        return {"throughput": tput, "p50_ms": 1000 / tput, "p99_ms": 2000 / tput, "requests": 200,
                "concurrency": 8, "statuses": {200: 200}}

    def send(rate):
        return {"seconds": 2.0, "processed": 200, "failed": 0, "job_span_seconds": 199 / rate,
                "jobs_per_second": rate}

    def dash(p50):
        return {"p50_ms": p50, "p99_ms": 2 * p50, "requests": 15, "concurrency": 1, "throughput": 1000 / p50,
                "seconds": 1.0, "statuses": {200: 15}}

    results = {
        "plan": {"rounds": 1}, "command": "./scripts/bench", "seconds": 100.0,
        "machine": {"date": "d", "nproc": 2, "uname": "u", "load_average": "1", "python": "3", "postgresql": "15",
                    "redis": "7"},
        "duplicates": {"deliveries": 200, "threads": 20, "windows": 20, "confirmation_messages_sent": 20,
                       "non_2xx": 0, "seconds": 1.5, "ok": True},
        "stripe": [scenarios.Pair("stripe c=8", a=[web(100)], b=[web(200)])],
        "inbound": [scenarios.Pair("inbound c=8", a=[web(300)], b=[web(400)])],
        "sends": [scenarios.Pair(f"sends {kind}", a=[send(50)], b=[send(90)]) for kind in ("forking", "simple")],
        "applies": [scenarios.Pair("stripe applies", a=[send(40)], b=[send(100)])],
        "stripe_latency": {"events": 480, "concurrency": 32, "workers": 2, "p50_ms": 30.0, "p99_ms": 90.0,
                           "max_ms": 120.0, "webhook_throughput": 300.0, "webhook_p99_ms": 40.0,
                           "floor_drain_seconds": 0.05, "floor_job_span_seconds": 0.04},
        "dashboard": {"statements": {10: {"/sitter": 10}, 100_000: {"/sitter": 10}},
                      "latency": {"/sitter": {10: [dash(20)], 100_000: [dash(22)]}}},
    }
    rendered = report.render(results)
    assert report.render(report.load(report.dump(results))) == rendered
    assert "| Stripe webhook throughput ≥ 80 % of the floor endpoint (worst of 1/8/32 clients) | 0.50 | **missed** |" \
        in rendered
    assert "| Stripe webhook p99 ≤ 1.5 × the floor endpoint (worst of 1/8/32 clients) | 2.00× | **missed** |" \
        in rendered
    assert "| Inbound SMS throughput ≥ 50 % of bare (worst of 1/8/32 clients) | 0.75 | met |" in rendered
    assert "| sends simple: send jobs ≥ 50 % of no-op job rate | 0.56 | met |" in rendered
    assert "p99 90.0 ms / floor 50.0 ms = 1.80× | met |" in rendered and "| 40.0 | 100.0 | **0.40** |" in rendered
    assert "| Stripe apply jobs ≥ 33 % of the floor's one-row job rate (one worker) | 0.40 (40.0/s) | met |" in rendered


def test_photo_benchmark_measures_bare_pillow_and_renders_its_section(tmp_path, monkeypatch):
    from bench import photos

    photo = tmp_path / "p.jpg"
    assert photos.make_photo(photo, size=(400, 300)) > 0
    bare = photos.measure_bare(photo)
    assert bare["out_bytes"] > 0 and bare["cpu_s"] >= 0
    full = dict(bare, dims=(225, 300), upload_bytes=1000)
    results = {"runs": {"bare": [bare], "full": [full]}, "photo_bytes": 1, "rounds": 1, "seconds": 1.0,
               "date": "now", "nproc": 2, "python": "3", "load": (0.0, 0.0, 0.0)}
    doc = tmp_path / "performance.md"
    doc.write_text("# Performance\n\n## Findings, fixes, and what is still open\n")
    section = photos.render(results)
    monkeypatch.setattr(photos, "RESULTS", tmp_path / "photos_results.md")
    photos.write_section(section, doc)
    photos.write_section(section, doc)  # replaced, not added twice
    text = doc.read_text()
    assert text.count(photos.START_MARK) == 1 and text.index(photos.START_MARK) < text.index("## Findings")


@pytest.mark.postgres_only  # the bench runs on PostgreSQL and Redis, whatever the suite's backend
def test_every_scenario_runs_through_the_real_app(tmp_path):
    """Every scenario of `./scripts/bench` once on tiny sizes (`--smoke`): each side of each pair
    answered 2xx or processed every job (the bench raises otherwise), and the report renders."""
    out, raw = tmp_path / "performance.md", tmp_path / "run.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench.run", "--smoke", "--out", str(out), "--json", str(raw)],
        cwd=server.ROOT, capture_output=True, text=True, timeout=900,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    results = report.load(raw.read_text())
    assert results["duplicates"]["ok"], results["duplicates"]
    webhook_runs = [run_ for key in ("stripe", "inbound") for pair in results[key] for run_ in pair.a + pair.b]
    assert webhook_runs and all(set(run_["statuses"]) == {200} for run_ in webhook_runs)
    assert [p.name for p in results["stripe"]] == ["stripe c=1", "stripe c=2"]
    for pair in [*results["sends"], *results["applies"]]:
        assert pair.a and pair.b and all(r["processed"] > 0 and not r["failed"] for r in pair.a + pair.b)
    burst = results["stripe_latency"]
    assert burst["events"] == run.SMOKE["burst_events"] and burst["floor_drain_seconds"] > 0
    assert all(count > 0 for by_url in results["dashboard"]["statements"].values() for count in by_url.values())
    assert set(results["reconcile"]) == {"100", "1000"}
    text = out.read_text()
    assert "## Goals" in text and "the floor" in text
    assert json.loads(raw.read_text())["command"] == "./scripts/bench --smoke"
