"""deploy/: the Prometheus scrape config, the alert rules and the Grafana dashboard name only
series that /metrics serves, and the alerts an operator needs are there."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from tests.support.metrics import METRICS_TOKEN, series_names

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
SERIES = re.compile(r"\bpawline_[a-z0-9_]+")


@pytest.fixture
def app_config():
    return {"METRICS_TOKEN": METRICS_TOKEN}


@pytest.fixture
def served(redis_app) -> set[str]:
    """Every series name one scrape declares (with RQ, so the Redis lengths are there too)."""
    response = redis_app.test_client().get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert response.status_code == 200
    return series_names(response.get_data(as_text=True))


def _rules() -> list[dict]:
    document = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text())
    return [rule for group in document["groups"] for rule in group["rules"]]


def test_every_alert_expression_names_served_series(served):
    for rule in _rules():
        named = set(SERIES.findall(rule["expr"]))
        assert named, f"{rule['alert']} names no pawline series"
        assert named <= served, f"{rule['alert']}: {sorted(named - served)} are not served by /metrics"
        assert rule["expr"].count("(") == rule["expr"].count(")"), rule["alert"]


def test_the_alerts_an_operator_needs_are_there():
    by_series = {}
    for rule in _rules():
        for name in SERIES.findall(rule["expr"]):
            by_series.setdefault(name, []).append(rule)
    texts_failing = [r for r in by_series["pawline_texts_total"] if "failed" in r["expr"]]
    webhook_5xx = [r for r in by_series["pawline_webhook_requests_total"] if '"5.."' in r["expr"]]
    assert texts_failing and webhook_5xx
    assert by_series["pawline_queue_oldest_age_seconds"] and by_series["pawline_reconcile_found_total"]
    for rule in _rules():
        assert rule["labels"]["severity"] in ("page", "warn") and rule["annotations"]["summary"]


def test_scrape_config_sends_the_bearer_token_and_loads_the_rules():
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    (job,) = config["scrape_configs"]
    assert job["metrics_path"] == "/metrics"
    assert job["authorization"]["type"] == "Bearer" and job["authorization"]["credentials_file"]
    for rule_file in config["rule_files"]:
        assert (DEPLOY / "prometheus" / rule_file).is_file()


def test_every_dashboard_panel_queries_served_series(served):
    dashboard = json.loads((DEPLOY / "grafana" / "pawline-dashboard.json").read_text())
    queried = set()
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            named = set(SERIES.findall(target["expr"]))
            assert named and named <= served, (panel["title"], sorted(named - served))
            queried |= named
    for needed in ("pawline_texts_total", "pawline_webhook_requests_total",
                   "pawline_webhook_request_duration_seconds_bucket", "pawline_queue_depth",
                   "pawline_queue_oldest_age_seconds", "pawline_reconcile_found_total"):
        assert needed in queried
