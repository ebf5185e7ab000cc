"""Every link in the README and in docs/ resolves: to a file of the repository, or to a heading of one."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import ROOT

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
"""A Markdown link's target (images are not links)."""
FENCE = re.compile(r"^```.*?^```", re.M | re.S)


def anchors(page: Path) -> set[str]:
    """GitHub's anchors of ``page``'s headings: lower case, punctuation dropped, spaces as hyphens,
    a repeated heading numbered."""
    found: set[str] = set()
    for heading in re.findall(r"^#{1,6} (.+)$", FENCE.sub("", page.read_text()), re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        anchor, number = slug, 0
        while anchor in found:
            number += 1
            anchor = f"{slug}-{number}"
        found.add(anchor)
    return found


def links(page: Path) -> list[str]:
    """The targets of ``page``'s links outside code blocks."""
    return LINK.findall(FENCE.sub("", page.read_text()))


def broken_links(page: Path, root: Path = ROOT) -> list[str]:
    """The targets of ``page``'s links that lead to no file under ``root`` or to no heading of one."""
    broken = []
    for target in links(page):
        if re.match(r"^[a-z]+:", target):  # https:, mailto: ...: outside the repository
            continue
        path, _, anchor = target.partition("#")
        resolved = (page.parent / path).resolve() if path else page
        inside = resolved.exists() and root in (resolved, *resolved.parents)
        heading = not anchor or (resolved.suffix == ".md" and anchor in anchors(resolved))
        if not (inside and heading):
            broken.append(target)
    return broken


@pytest.mark.parametrize("page", PAGES, ids=[str(page.relative_to(ROOT)) for page in PAGES])
def test_every_link_resolves_to_a_file_or_a_heading(page: Path) -> None:
    assert broken_links(page) == [], page.relative_to(ROOT)


def test_the_readme_is_the_front_door() -> None:
    """Short enough to read in minutes, the two commands first, and every page of docs/ linked."""
    text = (ROOT / "README.md").read_text()
    assert len(text.splitlines()) <= 250
    first_block = text.split("```bash\n", 1)[1].split("```", 1)[0]
    assert [line.split("#")[0].strip() for line in first_block.splitlines()] == ["make synth", "make test"]
    assert text.index("## Quick start") < text.index("\n## ", text.index("## Quick start") + 1)
    linked = {Path(target.partition("#")[0]).name for target in links(ROOT / "README.md")}
    assert {page.name for page in PAGES[1:]} <= linked


def test_a_missing_file_or_heading_is_a_broken_link(tmp_path: Path) -> None:
    (tmp_path / "other.md").write_text("# Other\n\n## What's `new`?\n\n## What's `new`?\n")
    page = tmp_path / "page.md"
    page.write_text(
        "[ok](other.md#whats-new) [again](other.md#whats-new-1) [self](#top) [web](https://aws.amazon.com)\n"
        "[gone](missing.md) [no heading](other.md#nothing) [outside](../x.md)\n\n# Top\n"
        "```\n[in code](nowhere.md)\n```\n"
    )
    (tmp_path.parent / "x.md").write_text("")
    assert broken_links(page, root=tmp_path) == ["missing.md", "other.md#nothing", "../x.md"]
