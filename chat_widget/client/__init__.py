"""The chat client, read top to bottom:

- `session.py`: `ChatClient`, the public object: chats, catch-up after a
  reconnect, the session's chat id, and where a received message goes;
- `awareness.py` and `live.py`: who is here, who is typing, what is unread
  (protocol 1.1), the public calls and their state without I/O;
- `sending.py`: the protocol's five steps of a send, retries, the pending flag;
- `connection.py`: the socket, its status, reconnects, emit/ack, the server list;
- `pending.py` and `message_log.py`: one send's state and one chat's messages,
  state without I/O;
- `http.py`: authorization strings (on demand, or fetched ahead) and `/api/me`;
- `threads.py`: the serial executor and the listeners' thread;
- `in_order.py`: python-socketio's client, handling packets in arrival order.
"""

from .connection import Status
from .session import ChatClient, Message

__all__ = ["ChatClient", "Message", "Status"]
