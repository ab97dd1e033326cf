"""Garbage-collector settings for a server process holding thousands of connections.

Why: every connection is a few hundred objects the cyclic collector tracks
(engine.io's socket and queue, aiohttp's response, reader and writer, the
transport, asyncio's futures), and CPython 3.11 walks all of them in each
full collection, with the event loop answering nothing meanwhile. With the
default thresholds (700, 10, 10) a server of 5,000 connections ran a full
collection every few seconds while connections opened and messages fanned
out, each about a second long on a two-core machine: 70 of them in one run
of 3 processes x 5,000 connections (44 s of pauses), and the p99 of the
authorization request went past 2 s. With a young generation of 10,000
objects (so that what a message allocates dies young instead of being
promoted) and a full collection at most every 100 middle ones, the same run
had 3, and was healthy (docs/reliability.md, "Load at scale").

`gc.freeze` first moves everything the start-up made (modules, the schema,
the routes) out of the collector's sight for good: nothing there is garbage.
Only `chat-widget serve` calls this: a process embedding the server (a
notebook, a test) keeps its own settings.
"""

from __future__ import annotations

import gc

THRESHOLDS = (10_000, 20, 100)


def tune_for_many_connections() -> None:
    """Freeze what start-up allocated; collect less often, as above."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
