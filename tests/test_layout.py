"""The tree is the architecture: which folder of ``assetpipe/`` may import which.

Layers, top to bottom (docs/how-to/contributing.md, "Layout"); a module may import its own
folder, its layer and any layer below it, never one above:

1. the command layer (``management/``), ``templatetags/``, ``testing/``, and the app with its
   system checks (``apps.py``, ``checks.py``);
2. ``storage.py``, Django's hooks;
3. ``build/pipeline.py``, which runs the steps in order;
4. the steps and what serves their output: the rest of ``build/``, ``publish/`` (publishing is
   the build's last step, and the bucket is also the build's cache), ``serve/``, ``edge/``,
   ``media/``;
5. ``conf/``, the options;
6. the shared rules: ``naming.py``, ``digests.py``, ``headers.py``, ``extras.py`` (and the
   package's ``__init__``, which only turns old import paths into errors).

Every ``import`` counts, at module level or inside a function (a deferred import is still a
dependency). Imports under ``if TYPE_CHECKING:`` are exempt: they never run, and a type may
name what sits above it (a Protocol's argument, say) without the module depending on it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import assetpipe

PACKAGE = Path(assetpipe.__file__).parent
LAYERS: tuple[frozenset[str], ...] = (
    frozenset({"management", "templatetags", "testing", "apps", "checks"}),
    frozenset({"storage"}),
    frozenset({"build.pipeline"}),
    frozenset({"build", "publish", "serve", "edge", "media"}),
    frozenset({"conf"}),
    frozenset({"naming", "digests", "headers", "extras", "__init__"}),
)
# Modules a top level may hold beside its packages (``__init__.py`` not counted).
MAX_TOP_LEVEL_MODULES = 8


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def folder(module: str) -> str:
    """The unit of the layout a module belongs to: its folder, or a top-level module's name;
    the pipeline is a unit of its own, above the steps beside it."""
    if module == "assetpipe.build.pipeline":
        return "build.pipeline"
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def layer(module: str) -> int:
    unit = folder(module)
    return next(i for i, units in enumerate(LAYERS) if unit in units)


def type_checking_only(tree: ast.Module) -> set[int]:
    """The ids of the nodes under ``if TYPE_CHECKING:``."""
    exempt: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test).endswith("TYPE_CHECKING"):
            exempt.update(id(child) for stmt in node.body for child in ast.walk(stmt))
    return exempt


def imported(path: Path) -> set[str]:
    """The ``assetpipe`` modules the module at ``path`` imports."""
    return imported_by(
        path.read_text(encoding="utf-8"), module_name(path), path.name == "__init__.py"
    )


def imported_by(source: str, module: str, is_package: bool = False) -> set[str]:
    """The ``assetpipe`` modules ``source``, the text of ``module``, imports, wherever the import
    statement is; ``from package import name`` counts ``package.name`` when that is a module."""
    tree = ast.parse(source)
    exempt = type_checking_only(tree)
    names: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in exempt:
            continue
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolved against the importing module's package
                package = module.split(".")[: None if is_package else -1]
                package = package[: len(package) - node.level + 1]
                base = ".".join([*package, *([node.module] if node.module else [])])
            names.add(base)
            names.update(f"{base}.{a.name}" for a in node.names if is_module(f"{base}.{a.name}"))
    return {name for name in names if name == "assetpipe" or name.startswith("assetpipe.")}


def is_module(name: str) -> bool:
    path = PACKAGE.parent.joinpath(*name.split("."))
    return path.is_dir() or path.with_suffix(".py").is_file()


def upward_imports() -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for path in sorted(PACKAGE.rglob("*.py")):
        module = module_name(path)
        for name in imported(path):
            if layer(name) < layer(module):
                found.add((module, name))
    return found


def test_every_folder_and_top_level_module_has_a_layer() -> None:
    units = {folder(module_name(path)) for path in PACKAGE.rglob("*.py")}
    placed = set().union(*LAYERS)
    assert units - placed == set(), "add the new folder or module to LAYERS and to the docs"
    assert placed - units == set(), "a layer names a folder or module that is gone"


def test_no_module_imports_a_layer_above_its_own() -> None:
    found = sorted(upward_imports())
    assert not found, "imports that run up the layers (docs/how-to/contributing.md):\n" + "\n".join(
        f"  {module} imports {name}" for module, name in found
    )
