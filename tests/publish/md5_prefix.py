"""Two manifests whose MD5s share their first 12 hex digits: one build id names both.

Found once with a cycle search over that 48-bit prefix (about 2**24 MD5s, a minute's work),
which is how cheaply a build id can be matched by bytes that are not the build.
"""

from __future__ import annotations

from pathlib import Path

LEGIT = b'{"paths": {"js/app.js": "js/app.f28c3013e2f8.js"}, "version": "1.1"}'
FORGED = b'{"paths": {"js/app.js": "js/app.ad2c2be24fde.js"}, "version": "1.1"}'
LEGIT_JS = "js/app.f28c3013e2f8.js"
FORGED_JS = "js/app.ad2c2be24fde.js"


def legit_build(root: Path) -> Path:
    """A STATIC_ROOT whose manifest is ``LEGIT``."""
    (root / "js").mkdir(parents=True)
    (root / "js" / "app.js").write_bytes(b"console.log('legit');\n")
    (root / LEGIT_JS).write_bytes(b"console.log('legit');\n")
    (root / "staticfiles.json").write_bytes(LEGIT)
    return root
