"""Reading /metrics as Prometheus does: the text format parsed by prometheus-client's parser."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

METRICS_TOKEN = "metrics-test-token-3f9c2a"


def scrape(client, token: str = METRICS_TOKEN) -> dict[tuple, float]:
    """{(sample name, ((label, value), …)): value} of one scrape (asserts it answered 200)."""
    response = client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.status_code
    return parse(response.get_data(as_text=True))


def parse(text: str) -> dict[tuple, float]:
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: dict, name: str, **labels) -> float:
    """A sample's value (0 when the series has not been written yet)."""
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def series_names(text: str) -> set[str]:
    """Every sample name the exposition declares, with the suffixes Prometheus stores
    (counters: _total; histograms: _bucket, _sum, _count), written to yet or not."""
    names = set()
    for family in text_string_to_metric_families(text):
        suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"),
                    "summary": ("_sum", "_count")}.get(family.type, ("",))
        names.update(family.name + suffix for suffix in suffixes)
        names.update(sample.name for sample in family.samples)
    return names
