"""JSON text for what the server writes: orjson where it can, the json module where not.

(Shared with `protocol.py`, whose size check measures orjson's text first.)

Every message costs the server five encodings (the sender's ack, the
broadcast, a `chat_activity` per member connection, the authorization
string's HTTP answer) and more for the store (its JSON columns, the
authorization string's payload); with the json module they were about a
twentieth of its CPU per message at one listener, and orjson writes the same
objects in a tenth of the time. The text means the same to every reader; it differs in
spelling only: characters outside ASCII go as UTF-8 rather than `\\u`
escapes, and some floats are spelled differently (`1e16`, not `1e+16`).

Whatever orjson would write differently or refuses goes to the json module,
so nothing that encoded before fails or changes value now: integers beyond
64 bits, non-string keys, lone surrogates, and (passed through on purpose)
str and dict subclasses, dataclasses and datetimes, which orjson would
otherwise write in its own way where the json module refuses them. orjson
writes NaN and infinities as null where the json module writes `NaN`; the
protocol refuses them in what clients send (`protocol._check_json_depth`) and
the server makes none.

Reading stays with the json module: orjson reads an integer beyond 64 bits as
a float, which would change what a payload means.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

_OPTIONS = (orjson.OPT_PASSTHROUGH_SUBCLASS | orjson.OPT_PASSTHROUGH_DATACLASS
            | orjson.OPT_PASSTHROUGH_DATETIME)


def compact(value: Any) -> bytes | None:
    """`value` as orjson's compact UTF-8 JSON, or None for what is the json module's to
    write (above)."""
    try:
        return orjson.dumps(value, option=_OPTIONS)
    except TypeError:  # orjson.JSONEncodeError is one
        return None


def dumps(value: Any, **json_module_options: Any) -> str:
    """`value` as compact JSON text; the options are the json module's, for its turn."""
    encoded = compact(value)
    if encoded is not None:
        return encoded.decode()
    return json.dumps(value, **{"separators": (",", ":"), **json_module_options})


loads = json.loads
"""The json module's: see the module's docstring."""
