"""Sphinx settings of the documentation site.

``./dev docs`` builds it into ``docs/_build/html`` with every warning an error (a broken link or
anchor, a page outside the navigation, a code block that does not parse as its language);
``./dev docs serve`` serves it and rebuilds as pages change. Pages are Markdown (MyST).
"""

from __future__ import annotations

import importlib.metadata

project = "assetpipe"
copyright = "the assetpipe authors"
release = version = importlib.metadata.version("assetpipe")

extensions = ["myst_parser"]
source_suffix = {".md": "markdown"}
exclude_patterns = ["_build"]
root_doc = "index"

# [text](page.md#a-heading) links to headings down to ###, checked at build time.
myst_heading_anchors = 3
myst_enable_extensions = ["colon_fence"]
# Quotes stay as typed: the reference quotes values ('br', "jpg") as the code spells them.
smartquotes = False
# Fenced code blocks must parse in their language; a bare ``` block is plain text.
highlight_language = "text"

html_theme = "furo"
html_static_path = ["_static"]
html_css_files = ["messages.css"]
html_title = f"assetpipe {release}"
html_copy_source = False
html_show_sphinx = False
