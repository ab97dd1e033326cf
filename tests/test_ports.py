"""Ports handed to servers before they start: never from the range outgoing connections use."""

from __future__ import annotations

import socket

from bench.ports import ephemeral_range, free_port


def test_a_free_port_is_bindable_and_outside_the_ephemeral_range() -> None:
    low, high = ephemeral_range()
    for _ in range(20):
        port = free_port()
        assert not low <= port <= high
        with socket.socket() as server:
            server.bind(("127.0.0.1", port))
            server.listen()


def test_a_port_something_listens_on_is_not_handed_out() -> None:
    taken = []
    try:
        for _ in range(50):
            holder = socket.socket()
            holder.bind(("127.0.0.1", free_port()))
            holder.listen()
            taken.append(holder)
        ports = {holder.getsockname()[1] for holder in taken}
        assert len(ports) == 50  # each one free when it was handed out
        assert free_port() not in ports
    finally:
        for holder in taken:
            holder.close()
