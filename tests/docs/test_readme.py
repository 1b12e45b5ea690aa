"""The README is the front page: short, opening with the two commands, its links resolving."""

from __future__ import annotations

import re

from tests.docs.pages import REPO

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
