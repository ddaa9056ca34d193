"""axe-core in the browser tests: the vendored copy (npm, scripts/install) injected into the page."""

from __future__ import annotations

from tests.browser.conftest import ROOT

AXE = ROOT / "app/static/vendor/axe.min.js"
# WCAG 2.2 A and AA, which includes 2.5.8 target size (24 px) and 1.4.3 contrast.
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


def axe_violations(page) -> list[dict]:
    """Run axe on the page as it is now; the page's context needs bypass_csp to inject it."""
    assert AXE.exists(), "run ./scripts/install (fetches axe-core)"
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", TAGS)
    return result["violations"]


def assert_no_serious_violations(page, where: str) -> None:
    serious = [v for v in axe_violations(page) if v["impact"] in ("serious", "critical")]
    details = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:5], v["help"]) for v in serious]
    assert not serious, f"{where}: {details}"
