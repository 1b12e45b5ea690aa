"""``{% static %}`` with ``DEBUG = True``: a name production would refuse is refused now.

With DEBUG on, Django's manifest storage renders any name as a plain URL, so a misspelt name, a
name with a leading ``/`` or a file no finder has renders a link that 404s, while the same template
raises ``ValueError: Missing staticfiles manifest entry for '…'`` in production. The storage's
``debug_unknown_names`` option picks what happens instead:

* ``"raise"`` (the default): the same ``ValueError``, naming the path and why;
* ``"warn"``: one warning per name on the ``assetpipe`` logger, and the plain URL;
* ``"ignore"``: Django's behaviour, the plain URL.

A name is looked up with the staticfiles finders once per storage, which is once per process:
found names are remembered, as are names already warned about. A name that raised is looked up
again on its next use, so a file created after the error is found without a restart.
"""

from __future__ import annotations

import logging
import posixpath
from urllib.parse import unquote, urldefrag, urlsplit

from django.contrib.staticfiles import finders

from assetpipe.conf.options import DEBUG_UNKNOWN_NAMES as MODES

logger = logging.getLogger("assetpipe")


def missing_reason(name: str) -> str | None:
    """Why production's manifest would have no entry for ``name``, or None if a finder finds it.

    The name is read as ``ManifestFilesMixin.url`` reads it: without its fragment and query, a
    directory's URL (ending in ``/``) never looked up."""
    clean_name, _ = urldefrag(name)
    if urlsplit(clean_name).path.endswith("/"):
        return None
    path = urlsplit(unquote(clean_name)).path.strip()
    entry = f"Missing staticfiles manifest entry for '{path}'"
    if path.startswith("/"):
        return f"{entry}: static names are relative to STATIC_URL, without a leading '/'"
    if "\\" in path or posixpath.normpath(path) != path or path.split("/")[0] == "..":
        return f"{entry}: not a normalized path below STATIC_URL"
    if finders.find(path) is None:
        return f"{entry}: no static files finder finds it"
    return None


class DebugNames:
    """The DEBUG check of one storage, with its memory of the names already checked."""

    def __init__(self, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(f"debug_unknown_names must be one of {', '.join(MODES)}, not {mode!r}")
        self.mode = mode
        self._done: set[str] = set()  # found by a finder, or already warned about

    def check(self, name: str) -> None:
        """Raise or warn, as the mode says, when production would have no entry for ``name``."""
        if self.mode == "ignore" or name in self._done:
            return
        reason = missing_reason(name)
        if reason is None:
            self._done.add(name)
            return
        if self.mode == "warn":
            self._done.add(name)
            logger.warning("assetpipe: %s (a plain URL in DEBUG, a ValueError without)", reason)
            return
        raise ValueError(reason)
