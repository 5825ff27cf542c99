"""The Graph API's ``fields`` parameter, parsed: field expansion with modifiers, aliases and
nested fields (https://developers.facebook.com/docs/graph-api/guides/field-expansion)::

    id,created_time,reactions.summary(total_count).limit(0),
    reactions.type(LIKE).limit(0).summary(total_count).as(like),attachments{media_type,url}
    business_discovery.username(jabarprovgov){followers_count,media.limit(25).after(QVF){id}}
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Field:
    name: str
    modifiers: dict[str, str] = field(default_factory=dict)
    sub: list[Field] | None = None

    @property
    def key(self) -> str:
        """The key the answer gives it: its ``.as(alias)``, else its name."""
        return self.modifiers.get("as", self.name)


def parse_fields(spec: str) -> list[Field]:
    """``spec`` → its top-level fields; ValueError when it is not well formed."""
    fields, rest = _fields(spec.replace(" ", ""), 0)
    if rest != len(spec.replace(" ", "")):
        raise ValueError(f"unexpected {spec[rest:]!r}")
    return fields


def _fields(text: str, at: int) -> tuple[list[Field], int]:
    found: list[Field] = []
    while at < len(text):
        parsed, at = _field(text, at)
        found.append(parsed)
        if at < len(text) and text[at] == ",":
            at += 1
            continue
        break
    return found, at


def _name(text: str, at: int) -> tuple[str, int]:
    start = at
    while at < len(text) and (text[at].isalnum() or text[at] == "_"):
        at += 1
    if at == start:
        raise ValueError(f"a field name is expected at {text[at : at + 20]!r}")
    return text[start:at], at


def _field(text: str, at: int) -> tuple[Field, int]:
    name, at = _name(text, at)
    result = Field(name)
    while at < len(text) and text[at] == ".":
        modifier, at = _name(text, at + 1)
        if at >= len(text) or text[at] != "(":
            raise ValueError(f"modifier {modifier} has no (value)")
        end = text.index(")", at)
        result.modifiers[modifier] = text[at + 1 : end]
        at = end + 1
    if at < len(text) and text[at] == "{":
        result.sub, at = _fields(text, at + 1)
        if at >= len(text) or text[at] != "}":
            raise ValueError("a { is not closed")
        at += 1
    return result, at


def names(fields: list[Field] | None) -> set[str]:
    return {f.name for f in fields or []}
