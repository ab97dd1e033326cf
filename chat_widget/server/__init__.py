"""The chat server: an aiohttp app with a python-socketio server, on SQLite or PostgreSQL.

Read in a straight line: `app.py` builds and runs it; `events.py` and
`routes.py` are the protocol's handlers, thin; `service.py` says what each
request means; `auth.py` signs and checks authorization strings; `store.py`
(over `database.py` and `schema.py`) keeps everything; `limits.py` caps what
one user may take; `responders.py` runs the bots, and `examples.py` has some.
With several processes, `redis_link.py` carries broadcasts between them and
`delivery.py` hands each client every message once and in order.

These are the names the command line and `chat_widget.demo` use.
"""

from .app import ChatServer, ServerConfig, ThreadedServer
from .responders import Responder, load_responder
from .store import Store

__all__ = ["ChatServer", "Responder", "ServerConfig", "Store", "ThreadedServer", "load_responder"]
