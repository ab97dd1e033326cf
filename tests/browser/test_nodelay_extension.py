"""The opt-in `chat_widget.jupyter_nodelay` server extension, in a JupyterLab started with it.

TCP_NODELAY is read back from JupyterLab's own sockets: the test process
opens a kernel websocket and an event websocket to the Lab, finds the Lab's
end of each by its peer port, duplicates it with pidfd_getfd (Linux 5.6+; the
Lab is this process's child) and asks the kernel for the option. Only the
kernel websocket has it. The widget in the page still sends and shows.
"""

from __future__ import annotations

import ctypes
import json
import os
import socket
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import websocket
from playwright import sync_api

from bench.widget_path import NODELAY_EXTENSION
from tests.browser.helpers import WIDGET_CELL, JupyterLab, NotebookPage, bob_receives

pytestmark = pytest.mark.timeout(120)
LAB_ARGS = [NODELAY_EXTENSION]
NOTEBOOK = [WIDGET_CELL, 'widget = open_chat("general")\nwidget', 'print("widgets ready")']
_PIDFD_GETFD = 438  # the syscall's number on x86-64 and arm64 alike


def lab_side_nodelay(lab: JupyterLab, local_port: int) -> bool:
    """TCP_NODELAY on the Lab's end of the connection whose peer is `local_port` here."""
    libc = ctypes.CDLL(None, use_errno=True)
    pidfd = os.pidfd_open(lab.process.pid)
    try:
        for name in os.listdir(f"/proc/{lab.process.pid}/fd"):
            try:
                if not os.readlink(f"/proc/{lab.process.pid}/fd/{name}").startswith("socket:"):
                    continue
            except FileNotFoundError:
                continue
            copy = libc.syscall(_PIDFD_GETFD, pidfd, int(name), 0)
            if copy < 0:
                raise OSError(ctypes.get_errno(), "pidfd_getfd")
            with socket.socket(fileno=copy) as lab_end:
                if lab_end.family != socket.AF_INET or lab_end.type != socket.SOCK_STREAM:
                    continue
                try:
                    peer = lab_end.getpeername()
                except OSError:
                    continue  # the listening socket
                if peer[1] == local_port:
                    return bool(lab_end.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
    finally:
        os.close(pidfd)
    raise AssertionError(f"no Lab socket talks to port {local_port}")


@contextmanager
def websocket_to(lab: JupyterLab, path: str) -> Iterator[Any]:
    connection = websocket.create_connection(lab.url(path).replace("http://", "ws://"),
                                             timeout=10)
    try:
        yield connection
    finally:
        connection.close()


def test_only_kernel_websockets_set_tcp_nodelay(notebook: NotebookPage, lab: JupyterLab) -> None:
    with urllib.request.urlopen(lab.url("api/kernels"), timeout=10) as answer:
        kernel_id = json.load(answer)[0]["id"]
    with websocket_to(lab, f"api/kernels/{kernel_id}/channels") as kernel, \
            websocket_to(lab, "api/events/subscribe") as events:
        kernel.send(json.dumps({  # a kernel_info_request: its reply shows the socket is open
            "header": {"msg_id": "nodelay-test", "msg_type": "kernel_info_request",
                       "username": "test", "session": "nodelay-test", "version": "5.3"},
            "parent_header": {}, "metadata": {}, "content": {}, "channel": "shell"}))
        while json.loads(kernel.recv()).get("msg_type") != "kernel_info_reply":
            pass
        assert lab_side_nodelay(lab, kernel.sock.getsockname()[1]) is True
        assert lab_side_nodelay(lab, events.sock.getsockname()[1]) is False
    assert "TCP_NODELAY on kernel websockets" in lab.log()


def test_the_widget_still_sends_and_shows(notebook: NotebookPage, bob: Any) -> None:
    view = notebook.widgets().first
    box = view.locator(".cw-input")
    box.fill("sent through a Lab with TCP_NODELAY")
    box.press("Enter")
    assert bob_receives(bob, "sent through a Lab with TCP_NODELAY")["sender"]["id"] == "alice"
    stored = view.locator(".cw-message[data-state='stored']",
                          has_text="sent through a Lab with TCP_NODELAY")
    sync_api.expect(stored).to_have_count(1)
