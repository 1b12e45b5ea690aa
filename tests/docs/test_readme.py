"""The README is the front page: short, opening with the two commands, its links resolving."""

from __future__ import annotations

import re
import tomllib

from tests.docs.pages import REPO, text

README = (REPO / "README.md").read_text(encoding="utf-8")


def test_it_opens_with_the_two_commands() -> None:
    opening = README.split("\n\n")[1].splitlines()
    assert opening[0] == "```sh"
    assert opening[1].startswith("./dev demo    # ")
    assert opening[2].startswith("./dev test    # ")


def test_it_is_short() -> None:
    assert len(README.splitlines()) < 200


def test_its_links_into_the_repository_resolve() -> None:
    links = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", README)
    local = [link for link in links if "://" not in link]
    assert local
    for link in local:
        assert (REPO / link).exists(), link


def capabilities(page: str) -> str:
    """The numbered list of what assetpipe does, with links made relative to docs/."""
    start = page.index("\n1. ")
    return page[start : page.index("\n\n", start)].replace("](docs/", "](")


def install_lines(page: str) -> list[str]:
    return [line for line in page.splitlines() if line.startswith("pip install ")]


def test_the_home_page_names_every_capability_as_the_readme_does() -> None:
    assert capabilities(text("index.md")) == capabilities(README)


def test_getting_started_installs_every_extra_as_the_readme_does() -> None:
    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    readme = install_lines(README)
    assert readme == install_lines(text("getting-started.md"))
    assert {f"pip install 'assetpipe[{extra}]'" for extra in extras} <= {
        line.split("  ")[0] for line in readme
    }
