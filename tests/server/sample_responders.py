"""Responders used by the tests: one of each kind the server accepts."""

from __future__ import annotations

import asyncio
import time


def shout(message):
    return message["text"].upper()


async def async_length(message):
    await asyncio.sleep(0)
    return {"text": f"{len(message['text'])} characters",
            "parts": [{"type": "table", "columns": ["length"], "rows": [[len(message["text"])]]}]}


def stream_words(message):
    for word in message["text"].split():
        yield word + " "


async def async_stream_letters(message):
    for letter in message["text"]:
        yield letter


def broken(message):
    raise RuntimeError("this responder always fails")


def slow(message):
    time.sleep(1.5)
    return "slow answer"


async def hangs(message):
    await asyncio.sleep(3600)
