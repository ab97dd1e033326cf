"""An opt-in Jupyter server extension: TCP_NODELAY on kernel websockets, and nothing else.

Why: jupyter_server leaves Nagle's algorithm on for its websockets. A kernel
answers a widget's message with several small websocket messages (status
busy, the answer, status idle); the first goes out at once, the next waits
until the browser acknowledges the first, and the browser delays that ACK
(up to 40 ms on Linux). Every widget in every notebook pays it on most round
trips; docs/performance.md has the figures. With TCP_NODELAY each message
leaves when it is written.

Only kernel websockets change (not HTTP, terminals or other websockets): the
extension wraps whatever connection class the server is configured with
(`ServerApp.kernel_websocket_connection_class`, a gateway's included), so
the rest of that class's behaviour and configuration stays as it was.

Enable it for one run:

    jupyter lab --ServerApp.jpserver_extensions=chat_widget.jupyter_nodelay=True

or for good, in `jupyter_server_config.json` in the Jupyter config folder
(`jupyter --config-dir`; `jupyter server extension list` shows it enabled):

    {"ServerApp": {"jpserver_extensions": {"chat_widget.jupyter_nodelay": true}}}

(`jupyter server extension enable` refuses it: that command only switches
extensions that their package's install already registered, and this one is
registered by no one, so that it stays opt-in.)
"""

from __future__ import annotations

from typing import Any

SETTING = "kernel_websocket_connection_class"
"""The Tornado setting jupyter_server reads for each kernel websocket it opens."""


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "chat_widget.jupyter_nodelay"}]


def _load_jupyter_server_extension(serverapp: Any) -> None:
    settings = serverapp.web_app.settings
    settings[SETTING] = with_nodelay(settings[SETTING])
    serverapp.log.info("chat_widget.jupyter_nodelay: TCP_NODELAY on kernel websockets")


def with_nodelay(connection_class: type[Any]) -> type[Any]:
    """A subclass of a kernel websocket connection class whose sockets set TCP_NODELAY.

    `connect` runs once the websocket is open (before any kernel message goes
    out), which is when Tornado's `set_nodelay` can reach the socket.
    """
    if getattr(connection_class, "sets_nodelay", False):
        return connection_class  # loaded twice: once is enough

    def connect(self: Any) -> Any:
        self.websocket_handler.set_nodelay(True)
        return connection_class.connect(self)

    namespace = {"connect": connect, "sets_nodelay": True, "__doc__": connection_class.__doc__,
                 "__module__": __name__}
    # The base's own metaclass (traitlets'), so its traits are set up as for any subclass.
    metaclass: Any = type(connection_class)
    subclass: type[Any] = metaclass(f"NoDelay{connection_class.__name__}", (connection_class,),
                                    namespace)
    return subclass
