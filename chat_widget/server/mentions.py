"""Find the members a message's text names as `@user_id` (protocol 1.1 `mentions`).

A plain function over the text and the ids of the chat's members, so it is
tested without a server. An id counts only where it ends: `@alice,` and
`@alice's` name alice, `@alicebob` and `@alice.smith` do not (unless those are
members themselves); where ids share a prefix, the longest one that fits wins.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_AT = re.compile(r"(?<![\w@])@(\S+)")
_INSIDE_ID = re.compile(r"[\w\-]|[.:][\w\-]")


def find_mentions(text: str, member_ids: Iterable[str]) -> list[str]:
    """The member ids named in `text`, each once, in order of first mention."""
    if "@" not in text:
        return []
    members = sorted(set(member_ids), key=len, reverse=True)
    found: list[str] = []
    for match in _AT.finditer(text):
        candidate = match.group(1)
        for member in members:
            if candidate.startswith(member) and not _INSIDE_ID.match(candidate, len(member)):
                if member not in found:
                    found.append(member)
                break
    return found
