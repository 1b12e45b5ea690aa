"""Waiting, without a sleep, until chromium holds a page's files as compression dictionaries.

Chromium stores a response as a dictionary (``Use-As-Dictionary``) after the page has loaded,
on its own time; a test that loads the next build at once may find none stored yet. A probe
asks for a name the dictionary's pattern matches and looks at whether chromium offered it.
"""

from __future__ import annotations

import itertools
import re
import time
from typing import Any

# Seconds chromium is given to store the dictionaries of a page.
DEADLINE = 15
# The probes' names: a hash no build gives (name.<these 12 hex digits>.ext), which servers 404.
_PROBE = re.compile(r"\.0{6}[0-9a-f]{6}\.(css|m?js)\b")


def mentions_probe(text: str) -> bool:
    """Whether a server's log line is about a probe."""
    return _PROBE.search(text) is not None


def wait_until_offered(page: Any, names: list[str] | None = None) -> None:
    """Wait until chromium offers a dictionary for each of ``names`` (hashed names ``page``
    loaded; every stylesheet and script it loaded when None). Each probe, from
    another page of the same site (whose 404s stay out of ``page``'s console), asks for a name
    the dictionary's pattern matches and looks at what chromium sent."""
    urls = page.evaluate(
        "[...document.querySelectorAll('script[src], link[href]')].map(e => e.src || e.href)"
    )
    if names is None:
        names = [u.rsplit("/", 1)[1] for u in urls if u.endswith((".css", ".js", ".mjs"))]
    prober = page.context.new_page()
    try:
        prober.goto(page.url, wait_until="load")
        _probe(prober, urls, names)
    finally:
        prober.close()


def _probe(page: Any, urls: list[str], names: list[str]) -> None:
    deadline = time.monotonic() + DEADLINE
    for name in names:
        url = next(u for u in urls if u.endswith("/" + name.rsplit("/", 1)[-1]))
        directory, _, base = url.rpartition("/")
        # app.min.0123456789ab.js: what the pattern keeps of the name, and its extension.
        stem, _, extension = base.rsplit(".", 2)
        tag = "link" if extension == "css" else "script"
        attribute = "href" if extension == "css" else "src"
        for attempt in itertools.count():
            probe = f"{directory}/{stem}.{attempt:012x}.{extension}"
            with page.expect_request(probe) as request:
                page.evaluate(
                    """([tag, attribute, probe]) => {
                        const element = document.createElement(tag);
                        // CORS mode, as a cross-origin dictionary is offered only for it.
                        element.crossOrigin = 'anonymous';
                        if (tag === 'link') element.rel = 'stylesheet';
                        element[attribute] = probe;
                        document.head.append(element);
                    }""",
                    [tag, attribute, probe],
                )
            if request.value.all_headers().get("available-dictionary"):
                break
            assert time.monotonic() < deadline, f"chromium never offered a dictionary for {name}"
