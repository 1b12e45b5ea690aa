"""assetpipe's WhiteNoise middleware: WhiteNoise's responses, one walk of STATIC_ROOT a process."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.staticfiles.storage import staticfiles_storage
from django.test import Client
from django.utils.functional import empty

from assetpipe.serve import whitenoise_middleware
from tests.conftest import StaticProject

OURS = "assetpipe.serve.whitenoise.WhiteNoiseMiddleware"
STOCK = "whitenoise.middleware.WhiteNoiseMiddleware"


@pytest.fixture
def served(project: StaticProject, settings: Any) -> Iterator[StaticProject]:
    project.write("app/site.css", 'body { background: url("bg.svg"); }\n' * 20)
    project.write("app/bg.svg", "<svg/>")
    project.collect()
    settings.MIDDLEWARE = [OURS]
    whitenoise_middleware.clear()
    staticfiles_storage._wrapped = empty  # type: ignore[attr-defined]
    yield project
    whitenoise_middleware.clear()
    staticfiles_storage._wrapped = empty  # type: ignore[attr-defined]


def get(url: str, **headers: str) -> Any:
    return Client().get(url, headers=headers)


def test_many_clients_one_walk(served: StaticProject) -> None:
    hashed = "/static/" + served.manifest()["app/site.css"]
    before = whitenoise_middleware.scans
    for _ in range(5):
        assert get(hashed).status_code == 200
        assert get("/static/app/bg.svg").status_code == 200
        assert get("/static/app/nothing.css").status_code == 404
    assert whitenoise_middleware.scans - before == 1


@pytest.mark.parametrize("name", ["app/site.css", "app/bg.svg", "staticfiles.json"])
@pytest.mark.parametrize("hashed", [True, False])
def test_responses_are_whitenoise_s(
    served: StaticProject, settings: Any, name: str, hashed: bool
) -> None:
    url = "/static/" + (served.manifest().get(name, name) if hashed else name)
    ours = get(url, accept_encoding="gzip, br")
    settings.MIDDLEWARE = [STOCK]
    stock = get(url, accept_encoding="gzip, br")
    assert ours.status_code == stock.status_code == 200
    assert dict(ours.headers) == dict(stock.headers)
    assert b"".join(ours.streaming_content) == b"".join(stock.streaming_content)


def test_a_new_build_is_walked_again(served: StaticProject) -> None:
    old = "/static/" + served.manifest()["app/site.css"]
    assert get(old).status_code == 200
    served.write("app/site.css", "body { color: blue }\n")
    served.collect()
    before = whitenoise_middleware.scans
    new = "/static/" + served.manifest()["app/site.css"]
    assert new != old
    assert get(new).status_code == 200
    assert get(new).status_code == 200
    assert whitenoise_middleware.scans - before == 1


def test_other_settings_get_a_table_of_their_own(served: StaticProject, settings: Any) -> None:
    assert get("/static/app/bg.svg")["Cache-Control"] == "max-age=60, public"
    settings.WHITENOISE_MAX_AGE = 5
    assert get("/static/app/bg.svg")["Cache-Control"] == "max-age=5, public"
    del settings.WHITENOISE_MAX_AGE
    before = whitenoise_middleware.scans
    assert get("/static/app/bg.svg")["Cache-Control"] == "max-age=60, public"
    assert whitenoise_middleware.scans == before  # the first table, kept


def test_with_autorefresh_nothing_is_read_up_front(served: StaticProject, settings: Any) -> None:
    settings.WHITENOISE_AUTOREFRESH = True
    before = whitenoise_middleware.scans
    assert get("/static/app/bg.svg").status_code == 200
    served.write("app/new.css", "a {}")
    served.collect()
    assert get("/static/app/new.css").status_code == 200
    assert whitenoise_middleware.scans == before


def test_the_import_paths() -> None:
    from assetpipe.serve.whitenoise import WhiteNoiseMiddleware

    assert WhiteNoiseMiddleware is whitenoise_middleware.WhiteNoiseMiddleware
    with pytest.raises(ImportError, match="cannot import name 'WhiteNoise'"):
        from assetpipe.serve.whitenoise import WhiteNoise  # noqa: F401
