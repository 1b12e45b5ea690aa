"""Test suites that see what production sees: STATIC_ROOT built once before the first test.

A project whose ``STORAGES["staticfiles"]`` is an ``AssetPipeStorage`` renders hashed names in
production and raises ``Missing staticfiles manifest entry`` for a name its build lacks; without a
build, its tests raise that for every name. Here the build runs at the start of each session, with
the project's own storage and options, into a STATIC_ROOT of its own that is kept between sessions,
so that from the second session on it is a no-change build:

* ``plugin``: the pytest plugin (entry point ``assetpipe``; ``-p no:assetpipe`` turns it off);
* ``runner``: ``StaticBuildRunner`` for ``manage.py test`` (``TEST_RUNNER``);
* ``build``: what both run: where the test STATIC_ROOT is, which settings change, the build.
"""
