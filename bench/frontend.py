"""The front end's render time: a page of 50 mixed messages, new renderer over old, in Chromium.

Each sample loads a blank page, renders the widget's view there with a
stand-in model (no kernel: the figure is the view's own cost), then pushes 50
stored messages (markdown with emphasis, links and lists, fenced code, a
markdown table, TeX math, a table part) the way the kernel pushes them, and
times until the browser has laid the list out. The same page goes through
the bundled front end (chat_widget/static/widget.js) and through the
hand-written renderer it replaced (bench/old_frontend/, kept only for this),
alternately, in one Chromium. The figure is the ratio of the medians for the
first page of a fresh view (what a notebook shows when the cell runs: it also
pays for compiling the highlighter's grammars and the math tables on first
use); the next 50 messages in the same view are timed too.
"""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BUNDLE = ROOT / "chat_widget" / "static" / "widget.js"
OLD = Path(__file__).resolve().parent / "old_frontend"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
"""Debian's Chromium, headless, with nothing phoning home (the browser tests use it too)."""

STANDALONE_JS = """
async ([source, css, user]) => {
  if (css) {
    const style = document.createElement('style');
    style.textContent = css;
    document.head.append(style);
  }
  const url = URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
  const module = await import(url);  // as anywidget loads it: from a blob: URL
  const handlers = {};
  const state = { status: 'connected', connected: true, chat_id: 'general', user_id: user,
    user_name: user, awaiting_response: false, error: '' };
  const push = (content) => (handlers['msg:custom'] || []).forEach((handler) => handler(content));
  const model = {
    get: (name) => state[name],
    on: (name, handler) => { (handlers[name] = handlers[name] || []).push(handler); },
    off: () => {},
    send: (content) => {
      window.__sent.push(content);
      if (content.type === 'sync') {
        push({ type: 'snapshot', request_id: content.request_id, chat_id: 'general',
          messages: [], has_more: false, outbox: [], events: [] });
      }
    },
  };
  window.__sent = [];
  window.__push = push;
  const el = document.createElement('div');
  document.body.append(el);
  module.default.render({ model, el });
}
"""
"""Renders a front end's view in a blank page with a stand-in model; `window.__push` feeds it."""

RENDER_PAGE_JS = """
(messages) => {
  const started = performance.now();
  for (const message of messages) window.__push({ type: 'message', message });
  const host = document.body.lastElementChild;
  const root = host.shadowRoot || host;
  root.querySelector('.cw-items').getBoundingClientRect();  // style and layout, done now
  return performance.now() - started;
}
"""

_TEXTS = [
    "The **fix** is in `load()`: see [the docs](https://example.com/docs) and *then* retry.",
    "Steps:\n\n1. read the *whole* file\n2. close it\n   - even on errors\n3. return the text",
    "```python\ndef load(path: str) -> str:\n    with open(path) as handle:  # closes on errors\n"
    "        return handle.read()\n\n\nfor name in ['a.csv', 'b.csv']:\n"
    "    print(load(name)[:80])\n```",
    "| host | p50 ms | p99 ms |\n|:--|--:|--:|\n| web-2 | 12.5 | 40.1 |\n| web-10 | 11.9 | 38.0 |\n"
    "| db-1 | 3.25 | 9.5 |",
    "The area is $\\int_0^1 x^2\\,dx = \\frac{1}{3}$, and\n\n"
    "$$\\sum_{k=1}^{n} k = \\frac{n(n+1)}{2}$$",
    "> quoted from earlier\n\nAgreed, ~~ship it~~ ship it **after** the tests pass.",
    "A plain line of chat, short.",
    "Bare link https://example.org/path?q=1 and `inline code` and **bold _nested_ text**.",
    "```sql\nSELECT host, avg(ms) AS mean FROM hits WHERE day = '2026-12-01' GROUP BY host\n```",
    "Math inline \\(a^2 + b^2 = c^2\\) in a sentence, with $e^{i\\pi} + 1 = 0$ too.",
]


def page_of_messages(count: int = 50) -> list[dict[str, Any]]:
    """`count` stored messages cycling through the mix; every tenth carries a table part."""
    messages = []
    for seq in range(1, count + 1):
        parts = []
        if seq % 10 == 0:
            parts = [{"type": "table", "columns": ["host", "p50 ms", "ok"],
                      "rows": [[f"web-{n}", 10 + n / 4, n % 3 != 0] for n in range(12)]}]
        messages.append({
            "id": f"bench-{seq}", "chat_id": "general", "seq": seq,
            "sender": {"id": "bob" if seq % 3 else "alice", "name": "bob", "kind": "user"},
            "text": _TEXTS[seq % len(_TEXTS)], "parts": parts, "client_id": None,
            "reply_to": None, "created_at": "2026-12-01T12:00:00Z"})
    return messages


def run(samples: int = 20) -> dict[str, Any]:
    """Median ms to render a page of 50 mixed messages, new and old, and their ratio."""
    from playwright.sync_api import sync_playwright

    front_ends = {
        "new": (BUNDLE.read_text(), ""),
        "old": ((OLD / "widget.js").read_text(), (OLD / "widget.css").read_text()),
    }
    messages = page_of_messages()
    second = [{**m, "id": f"{m['id']}-next", "seq": m["seq"] + len(messages)} for m in messages]
    times: dict[str, list[float]] = {name: [] for name in front_ends}
    warm: dict[str, list[float]] = {name: [] for name in front_ends}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1000, "height": 1200})
        for sample in range(samples + 2):  # the first two warm the browser up, untimed
            for name, (source, css) in front_ends.items():
                page.goto("data:text/html,<!doctype html><title>bench</title>")
                page.evaluate(STANDALONE_JS, [source, css, "alice"])
                elapsed = page.evaluate(RENDER_PAGE_JS, messages)
                again = page.evaluate(RENDER_PAGE_JS, second)  # the next 50, code warm
                if sample >= 2:
                    times[name].append(elapsed)
                    warm[name].append(again)
        browser.close()
    new, old = statistics.median(times["new"]), statistics.median(times["old"])
    return {
        "messages_per_page": len(messages),
        "new_page_ms": round(new, 2),
        "old_page_ms": round(old, 2),
        "new_over_old": round(new / old, 2),
        "new_p90_ms": round(sorted(times["new"])[int(0.9 * len(times["new"])) - 1], 2),
        "new_next_page_ms": round(statistics.median(warm["new"]), 2),
        "old_next_page_ms": round(statistics.median(warm["old"]), 2),
        "new_samples_ms": [round(t, 2) for t in times["new"]],
        "old_samples_ms": [round(t, 2) for t in times["old"]],
    }


if __name__ == "__main__":
    import json

    print(json.dumps({k: v for k, v in run().items() if not k.endswith("_samples_ms")}, indent=1))
