"""The chat server: an aiohttp app with a python-socketio server, on SQLite or PostgreSQL.

Read in a straight line: `app.py` builds and runs it; `events.py` and
`routes.py` are the protocol's handlers, thin; `service.py` says what each
request means; `auth.py` signs and checks authorization strings; `store.py`
(over `database.py` and `schema.py`) keeps everything; `limits.py` caps what
one user may take; `responders.py` runs the bots, and `examples.py` has some.
Files (protocol 1.1): `file_routes.py` frames, `files.py` decides,
`file_rules.py` (names, types, headers), `file_links.py` (signed links) and
`blobs.py` (where bytes live); `search.py` is the full-text search.
With several processes, `redis_link.py` carries broadcasts between them and
`delivery.py` hands each client every message once and in order;
`preflight.py` checks the database, Redis and the port before serving.

The names below are what the command line and `chat_widget.demo` use. Each is
imported on first use, so a command that only reads the database does not
load the web server.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .app import ChatServer, ServerConfig, ThreadedServer
    from .preflight import StartupError, bind_failure, prepare_database
    from .responders import Responder, load_responder
    from .store import Store, open_store

_WHERE = {
    "ChatServer": "app", "ServerConfig": "app", "ThreadedServer": "app",
    "StartupError": "preflight", "bind_failure": "preflight", "prepare_database": "preflight",
    "Responder": "responders", "load_responder": "responders",
    "Store": "store", "open_store": "store",
}

__all__ = [
    "ChatServer",
    "Responder",
    "ServerConfig",
    "StartupError",
    "Store",
    "ThreadedServer",
    "bind_failure",
    "load_responder",
    "open_store",
    "prepare_database",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'chat_widget.server' has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
