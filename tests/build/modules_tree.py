"""An ES module app for the integrity, import map and preload tests.

``main.mjs`` imports ``a.mjs`` and the shared leaf ``shared.mjs`` (which ``a.mjs`` imports too) and
loads ``lazy.mjs`` with ``import()``. Each module records its evaluation in ``window.evaluated``,
so a browser test can tell which ran, in what order and when.
"""

from __future__ import annotations

MODULES: dict[str, str] = {
    "app/mod/shared.mjs": (
        "(window.evaluated ??= []).push(['shared', performance.now()]);\n"
        "export const shared = 'shared leaf';\n"
    ),
    "app/mod/a.mjs": (
        'import { shared } from "./shared.mjs";\n'
        "(window.evaluated ??= []).push(['a', performance.now()]);\n"
        "export const a = `a uses ${shared}`;\n"
    ),
    "app/mod/lazy.mjs": (
        "import { shared } from './shared.mjs';\n"
        "(window.evaluated ??= []).push(['lazy', performance.now()]);\n"
        "export const lazy = `lazy uses ${shared}`;\n"
    ),
    "app/mod/main.mjs": (
        'import { a } from "./a.mjs";\n'
        'import { shared } from "./shared.mjs";\n'
        '// import "./commented-out.mjs";\n'
        "(window.evaluated ??= []).push(['main', performance.now()]);\n"
        'const { lazy } = await import("./lazy.mjs");\n'
        "document.documentElement.dataset.modules = [a, shared, lazy].join(' | ');\n"
    ),
}

CLASSIC_SCRIPT = "window.classicRan = true;\n" + "".join(
    f"function g{i}(x) {{ return x + {i}; }}\n" for i in range(100)
)
STYLESHEET = "body { color: rgb(1, 2, 3); }\n" + "".join(
    f".c{i} {{ margin: {i}px; }}\n" for i in range(100)
)
