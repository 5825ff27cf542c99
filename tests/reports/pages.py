"""Reading the report's HTML in tests: a small tree over the standard library's parser,
strict about structure (a stray end tag or an unclosed element fails the test)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

VOID = {"meta", "link", "br", "img", "input", "hr", "col", "source", "wbr"}


class Node:
    def __init__(self, tag: str, attrs: dict[str, str], parent: Node | None) -> None:
        self.tag, self.attrs, self.parent = tag, attrs, parent
        self.children: list[Node | str] = []

    def text(self) -> str:
        parts = [c if isinstance(c, str) else c.text() for c in self.children]
        return re.sub(r"\s+", " ", "".join(parts)).strip()

    def all(self, tag: str | None = None, **attrs: str) -> Iterator[Node]:
        """Descendants with ``tag`` whose attributes include ``attrs`` (``class_`` matches one
        of the classes)."""
        for child in self.children:
            if isinstance(child, str):
                continue
            if (tag is None or child.tag == tag) and all(
                (v in child.attrs.get("class", "").split())
                if k == "class_"
                else child.attrs.get(k.replace("_", "-")) == v
                for k, v in attrs.items()
            ):
                yield child
            yield from child.all(tag, **attrs)

    def one(self, tag: str | None = None, **attrs: str) -> Node:
        found = list(self.all(tag, **attrs))
        assert len(found) == 1, f"{len(found)} <{tag} {attrs}>"
        return found[0]

    def rows(self) -> list[list[Node]]:
        """A table's body rows, each as its cells (th and td)."""
        body = self.one("tbody")
        return [
            [c for c in tr.children if isinstance(c, Node) and c.tag in ("th", "td")]
            for tr in body.all("tr")
        ]


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {}, None)
        self.at = self.root

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attrs}, self.at)
        self.at.children.append(node)
        if tag not in VOID:
            self.at = node

    def handle_endtag(self, tag: str) -> None:
        node: Node | None = self.at
        while node is not None and node.tag != tag:
            node = node.parent
        assert node is not None and node.parent is not None, f"stray </{tag}>"
        self.at = node.parent

    def handle_data(self, data: str) -> None:
        self.at.children.append(data)


def parse(html: str, where: str = "the page") -> Node:
    builder = _Builder()
    builder.feed(html)
    builder.close()
    assert builder.at is builder.root, f"{where}: unclosed <{builder.at.tag}>"
    return builder.root


def page(path: Path) -> Node:
    return parse(path.read_text(encoding="utf-8"), str(path))
