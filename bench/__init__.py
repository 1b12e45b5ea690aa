"""Benchmarks: assetpipe and the alternatives, side by side on a real tree of static files.

``python -m bench`` runs the local ``collectstatic`` comparison; see ``bench/README.md``. The
modules are reusable building blocks: :mod:`bench.tree` builds the source tree,
:mod:`bench.runner` runs and times one contender in its own process, :mod:`bench.verify` checks
the output, :mod:`bench.local` runs the scenarios and renders the table.
"""
