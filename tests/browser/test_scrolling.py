"""Following the bottom of the message list in a real browser (the view alone, no Jupyter).

The list follows new messages while it sits at the bottom, and lets go when
the reader scrolls up. Content that shrinks (a message deleted or re-rendered
shorter) makes the browser lower `scrollTop` by itself: that is not the
reader scrolling up, and must not turn later messages into "new below".
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import open_standalone, push_message

pytestmark = pytest.mark.timeout(120)
TALL = "\n\n".join(f"line {n} of a tall message" for n in range(10))
# True once the list has sat at its bottom for two frames in a row (scroll events and
# ResizeObservers have run).
SETTLED_AT_BOTTOM_JS = """
(list) => new Promise((resolve) => {
  const atBottom = () => list.scrollHeight - list.scrollTop - list.clientHeight < 2;
  requestAnimationFrame(() => requestAnimationFrame(() => resolve(atBottom())));
})
"""
# Two frames, so that the scroll events and ResizeObservers of what was done have run.
TWO_FRAMES_JS = "() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))"


@pytest.fixture()
def page(browser: Any) -> Iterator[Any]:
    page = browser.new_page(viewport={"width": 900, "height": 700})
    open_standalone(page)
    yield page
    page.close()


def message(seq: int, text: str, **changes: Any) -> dict[str, Any]:
    return {"id": f"standalone-{seq}", "chat_id": "general", "seq": seq,
            "sender": {"id": "bob", "name": "bob", "kind": "user"}, "text": text,
            "parts": [], "client_id": None, "reply_to": None,
            "created_at": "2026-01-01T12:00:00Z", "version": 0, "deleted": False,
            "reactions": [], "mentions": [], **changes}


def fill_to_the_bottom(page: Any) -> Any:
    for seq in range(1, 30):
        push_message(page, seq, f"message {seq}")
    push_message(page, 30, TALL)
    root = page.locator(".cw-root")
    list_ = root.locator(".cw-list")
    assert list_.evaluate("l => l.scrollHeight > 2 * l.clientHeight")  # it scrolls
    assert list_.evaluate(SETTLED_AT_BOTTOM_JS)
    return root


def test_a_message_shrinking_at_the_bottom_keeps_the_list_following(page: Any) -> None:
    root = fill_to_the_bottom(page)
    # As in a browser without scroll anchoring (WebKit): Chromium's anchoring often
    # scrolls back down in time, which hides what the view itself gets wrong.
    root.locator(".cw-list").evaluate("l => { l.style.overflowAnchor = 'none'; }")
    # The last message is deleted: a short tombstone, so the browser clamps scrollTop
    # down once it lays the list out; another tall message comes before the scroll
    # event of that clamp runs.
    page.evaluate("""([deleted, next]) => new Promise((resolve) => {
      window.__push({ type: 'message_updated', message: deleted });
      requestAnimationFrame(() => setTimeout(() => {
        window.__push({ type: 'message', message: next });
        resolve();
      }, 0));
    })""", [message(30, "", version=1, deleted=True), message(31, TALL)])
    page.evaluate(TWO_FRAMES_JS)
    push_message(page, 32, "the latest")
    expect(root.locator(".cw-message[data-id='standalone-32']")).to_be_in_viewport()
    assert root.locator(".cw-list").evaluate(SETTLED_AT_BOTTOM_JS)
    expect(root.locator(".cw-new-below")).to_be_hidden()


@pytest.mark.parametrize("how", ["wheel", "keys"])
def test_scrolling_up_still_lets_go_of_the_bottom(page: Any, how: str) -> None:
    root = fill_to_the_bottom(page)
    list_ = root.locator(".cw-list")
    if how == "wheel":
        list_.hover()
        page.mouse.wheel(0, -400)
    else:
        list_.focus()
        page.keyboard.press("PageUp")
    page.wait_for_function(
        "() => { const l = document.body.lastElementChild.shadowRoot.querySelector('.cw-list');"
        " return l.scrollHeight - l.scrollTop - l.clientHeight > 200; }")
    page.evaluate(TWO_FRAMES_JS)
    push_message(page, 31, "news while you read")
    expect(root.locator(".cw-new-below")).to_have_text("↓ 1 new message")
    root.locator(".cw-new-below").click()
    expect(root.locator(".cw-message[data-id='standalone-31']")).to_be_in_viewport()
    expect(root.locator(".cw-new-below")).to_be_hidden()
