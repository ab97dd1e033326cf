"""Responders: the bots that answer every user message in a chat.

A responder is a Python callable taking the user's message (a protocol
Message dict) and returning the answer: a `str`, or a dict with `text` and/or
`parts`. It may be a plain function (run in a worker thread, so it never
blocks the event loop), a coroutine function, or a generator / async
generator yielding text pieces, which are sent as `message_delta` events
before the final `message` carries the whole text.

Each chat has its own queue and worker task: answers in one chat keep the
order of the questions, and a slow responder never delays another chat.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from ..protocol import Message

Responder = Callable[[Message], Any]
logger = logging.getLogger(__name__)


def echo(message: Message) -> dict[str, Any]:
    """The built-in responder: answers with the same text (and the same parts)."""
    return {"text": message["text"], "parts": message["parts"]}


BUILT_IN: dict[str, Responder] = {"echo": echo}


def load_responder(spec: str) -> Responder:
    """Import `module:function` (as given on the command line)."""
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise ValueError(f"responder {spec!r} must look like module:function")
    target: Any = importlib.import_module(module_name)
    for name in attribute.split("."):
        target = getattr(target, name)
    if not callable(target):
        raise ValueError(f"responder {spec!r} is not callable")
    responder: Responder = target
    return responder


class ResponderRunner:
    """Runs responders off the hot path, one ordered queue per chat.

    `answer(name, message)` only enqueues; the worker calls the responder and
    hands each outcome to the callbacks given at construction: `on_delta` for a
    streamed piece, `on_answer` for the whole answer, `on_failure` for an error.
    """

    def __init__(
        self,
        on_delta: Callable[[Message, str, int, str], Awaitable[None]],
        on_answer: Callable[[Message, str, str, Any], Awaitable[None]],
        on_failure: Callable[[Message, str, str], Awaitable[None]],
        timeout: float = 60.0,
    ) -> None:
        self.registry: dict[str, Responder] = dict(BUILT_IN)
        self._on_delta = on_delta
        self._on_answer = on_answer
        self._on_failure = on_failure
        self.timeout = timeout
        self._queues: dict[str, asyncio.Queue[tuple[str, Message]]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}

    def register(self, name: str, responder: Responder) -> None:
        if not callable(responder):
            raise TypeError("a responder must be callable")
        self.registry[name] = responder

    def answer(self, name: str, message: Message) -> None:
        chat_id = message["chat_id"]
        queue = self._queues.get(chat_id)
        if queue is None:
            queue = self._queues[chat_id] = asyncio.Queue()
            self._workers[chat_id] = asyncio.get_running_loop().create_task(self._work(queue))
        queue.put_nowait((name, message))

    async def close(self) -> None:
        for task in self._workers.values():
            task.cancel()
        await asyncio.gather(*self._workers.values(), return_exceptions=True)
        self._workers.clear()
        self._queues.clear()

    async def _work(self, queue: asyncio.Queue[tuple[str, Message]]) -> None:
        while True:
            name, message = await queue.get()
            reply_id = uuid.uuid4().hex
            try:
                result = await asyncio.wait_for(
                    self._run(name, message, reply_id), timeout=self.timeout)
            except asyncio.TimeoutError:
                await self._on_failure(message, "internal",
                                       f"responder {name!r} took longer than {self.timeout:g} s")
                continue
            except Exception as error:  # a responder's bug must not stop the server
                logger.warning("responder %r failed: %s", name, error, exc_info=True)
                await self._on_failure(
                    message, "internal", f"responder {name!r} failed: {type(error).__name__}")
                continue
            try:
                await self._on_answer(message, name, reply_id, result)
            except Exception as error:
                logger.warning("storing the answer of %r failed: %s", name, error)
                await self._on_failure(message, "internal", "the answer could not be stored")

    async def _run(self, name: str, message: Message, reply_id: str) -> Any:
        responder = self.registry.get(name)
        if responder is None:
            raise LookupError(f"no responder named {name!r}")
        if inspect.isasyncgenfunction(responder):
            return await self._stream(responder(message), message, reply_id)
        if inspect.isgeneratorfunction(responder):
            return await self._stream(_threaded_iter(responder(message)), message, reply_id)
        if inspect.iscoroutinefunction(responder):
            return await responder(message)
        result = await asyncio.to_thread(responder, message)
        return await result if inspect.isawaitable(result) else result

    async def _stream(self, pieces: Any, message: Message, reply_id: str) -> str:
        collected: list[str] = []
        async for piece in pieces:
            piece = str(piece)
            await self._on_delta(message, reply_id, len(collected), piece)
            collected.append(piece)
        return "".join(collected)


async def _threaded_iter(generator: Any) -> Any:
    """Drive a plain generator in a worker thread, one piece at a time."""
    done = object()
    while True:
        piece = await asyncio.to_thread(next, generator, done)
        if piece is done:
            return
        yield piece
