"""The forms each role is shown, found by crawling the pages they can reach (links, htmx gets and
form actions), so the fuzz can start from a form as the page fills it and break a few fields:
hostile values then reach the services instead of stopping at the first required field."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

from werkzeug.exceptions import HTTPException

SKIP_PREFIXES = ("/static/", "/admin/rq", "/logout", "/webhooks/")
MAX_PAGES = 120


@dataclass
class ShownForm:
    endpoint: str
    action: str  # path and query string, as the page posts it
    fields: dict[str, str]


@dataclass
class _Parsed:
    links: list[str] = field(default_factory=list)
    forms: list[tuple[str, dict[str, str]]] = field(default_factory=list)


class _PageParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found = _Parsed()
        self._form: tuple[str, dict[str, str]] | None = None
        self._textarea: str | None = None
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        attr = {name: value or "" for name, value in attrs}
        if tag == "option":
            self._option(attr)
            return
        for link in (attr.get("href") if tag == "a" else None, attr.get("hx-get")):
            if link:
                self.found.links.append(link)
        if tag == "form" and attr.get("method", "get").lower() == "post":
            self._form = (attr.get("action", ""), {})
            self.found.forms.append(self._form)
        if self._form is None or "name" not in attr:
            return
        fields = self._form[1]
        if tag == "input":
            if attr.get("type") in ("checkbox", "radio") and "checked" not in attr:
                return
            fields[attr["name"]] = attr.get("value", "")
        elif tag == "textarea":
            self._textarea = attr["name"]
            fields[self._textarea] = ""
        elif tag == "select":
            self._select = attr["name"]
        elif tag == "button" and attr.get("value"):
            fields.setdefault(attr["name"], attr["value"])

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_data(self, data):
        if self._form is not None and self._textarea:
            self._form[1][self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None
        elif tag == "form":
            self._form = None

    def _option(self, attr: dict[str, str]) -> None:
        """A select's value: its selected option, else its first."""
        if self._form is not None and self._select:
            fields = self._form[1]
            if self._select not in fields or "selected" in attr:
                fields[self._select] = attr.get("value", "")


def _same_site(base: str, link: str) -> str | None:
    absolute = urlsplit(urljoin(base, link))
    if absolute.netloc not in ("", "localhost", "pawline.test") or absolute.scheme not in ("", "http", "https"):
        return None
    path = absolute.path + (f"?{absolute.query}" if absolute.query else "")
    return None if path.startswith(SKIP_PREFIXES) else path


def crawl_forms(app, client, start: list[str]) -> dict[str, list[ShownForm]]:
    """endpoint → the forms that post to it, from every page reachable from `start`."""
    adapter = app.url_map.bind("pawline.test")
    seen, queue = set(start), deque(start)
    shown: dict[str, list[ShownForm]] = {}
    while queue and len(seen) <= MAX_PAGES:
        page = queue.popleft()
        response = client.get(page)
        if response.status_code != 200 or "html" not in (response.mimetype or ""):
            continue
        parser = _PageParser()
        parser.feed(response.get_data(as_text=True))
        for link in parser.found.links:
            target = _same_site(page, link)
            if target and target not in seen:
                seen.add(target)
                queue.append(target)
        for action, fields in parser.found.forms:
            target = _same_site(page, action or page)
            if target is None:
                continue
            try:
                endpoint, _ = adapter.match(urlsplit(target).path, method="POST")
            except HTTPException:
                continue
            shown.setdefault(endpoint, []).append(ShownForm(endpoint, target, fields))
    return shown
