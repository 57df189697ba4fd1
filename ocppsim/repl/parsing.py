"""Split a prompt line into words and read `field=value` customisations (SPEC §3).

Words are separated by blanks outside quotes and brackets, so JSON values such as
`idTagInfo={"status": "Blocked"}` or `-p {"type":"Soft"}` stay one word, quotes included:
`idTag="12345"` must stay a JSON string.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from ocppsim.core.errors import OcppSimError

_FIELD_NAME = re.compile(r"^[A-Za-z_@][\w@]*(\.[\w@]+)*$")


class ParseError(OcppSimError, ValueError):
    """A line that cannot be split (an unclosed quote or bracket)."""


def split_words(line: str) -> list[str]:
    """Blank-separated words; quotes and []/{} nesting keep their content together."""
    words: list[str] = []
    current: list[str] = []
    depth = 0
    quote: str | None = None
    escaped = False
    for char in line:
        if quote:
            current.append(char)
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == quote:
                quote = None
            continue
        if char in "\"'":
            quote = char
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth = max(0, depth - 1)
        elif char.isspace() and depth == 0:
            if current:
                words.append("".join(current))
                current = []
            continue
        current.append(char)
    if quote:
        raise ParseError(f"unclosed quote {quote}")
    if current:
        words.append("".join(current))
    return words


def unquote(word: str) -> str:
    """Strip one pair of matching surrounding quotes."""
    if len(word) >= 2 and word[0] == word[-1] and word[0] in "\"'":
        return word[1:-1]
    return word


def parse_value(text: str) -> Any:
    """A customisation value: JSON when it parses, else the text as a string."""
    try:
        return json.loads(text)
    except ValueError:
        return unquote(text)


@dataclass
class ParsedLine:
    """`command arguments… -option value… field=value…`"""

    command: str
    arguments: list[str] = field(default_factory=list)
    options: dict[str, str | None] = field(default_factory=dict)
    fields: list[tuple[str, str]] = field(default_factory=list)
    #: options given more than once (`options` keeps the last value)
    repeated: list[str] = field(default_factory=list)


def is_option(word: str) -> bool:
    return word.startswith("-") and len(word) > 1 and not word[1].isdigit()


def parse_line(line: str, flags: frozenset[str] = frozenset()) -> ParsedLine:
    """Command word, positional arguments, `-x value` options and `name=value` fields;
    `flags` are options that take no value (`--stateless`)."""
    return parse_words(split_words(line.strip()), flags)


def parse_words(words: list[str], flags: frozenset[str] = frozenset()) -> ParsedLine:
    """`parse_line` for words already split (the process's command line)."""
    if not words:
        return ParsedLine("")
    parsed = ParsedLine(words[0])
    index = 1
    while index < len(words):
        word = words[index]
        if is_option(word):
            if word in parsed.options and word not in parsed.repeated:
                parsed.repeated.append(word)
            following = words[index + 1] if index + 1 < len(words) else None
            if following is None or is_option(following) or word in flags:
                parsed.options[word] = None
                index += 1
            else:
                parsed.options[word] = unquote(following)
                index += 2
            continue
        name, sep, value = word.partition("=")
        if sep and _FIELD_NAME.match(name):
            parsed.fields.append((name, value))
        else:
            parsed.arguments.append(unquote(word))
        index += 1
    return parsed
