// The disclosure pattern shared by the chat switcher and the search panel, under jsdom.

import "./dom-env.js";
import assert from "node:assert/strict";
import { test } from "node:test";
import { button, disclosure, h } from "./dom.js";

/** @param {{onOpen?: () => void, keepKeys?: boolean}} [options] */
function setUp(options) {
  const toggle = button("t", "Open");
  const panel = h("div");
  const inner = button("inner", "Inside");
  panel.append(inner);
  /** @type {string[]} */
  const reachedPage = [];
  document.body.replaceChildren(toggle, panel);
  document.body.addEventListener("keydown", (event) => reachedPage.push(event.key));
  const setOpen = disclosure(toggle, panel, "cw-x", options);
  return { toggle, panel, inner, setOpen, reachedPage };
}

/** @param {HTMLElement} target @param {string} key */
function press(target, key) {
  target.dispatchEvent(new window.KeyboardEvent("keydown", { key, bubbles: true }));
}

test("the button's state follows the panel, which starts hidden", () => {
  const { toggle, panel, setOpen } = setUp();
  assert.equal(panel.hidden, true);
  assert.equal(toggle.getAttribute("aria-expanded"), "false");
  assert.equal(toggle.getAttribute("aria-controls"), panel.id);
  assert.match(panel.id, /^cw-x-[a-z0-9]+$/);
  toggle.click();
  assert.equal(panel.hidden, false);
  assert.equal(toggle.getAttribute("aria-expanded"), "true");
  toggle.click();
  assert.equal(panel.hidden, true);
  setOpen(true);
  assert.equal(toggle.getAttribute("aria-expanded"), "true");
});

test("Escape inside closes the panel and puts focus back on the button", () => {
  const { toggle, panel, inner, setOpen } = setUp();
  setOpen(true);
  inner.focus();
  press(inner, "Escape");
  assert.equal(panel.hidden, true);
  assert.equal(document.activeElement, toggle);
});

test("onOpen runs on opening only; keepKeys keeps every key inside from the page", () => {
  let opened = 0;
  const kept = setUp({ onOpen: () => opened++, keepKeys: true });
  kept.toggle.click();
  kept.toggle.click();
  assert.equal(opened, 1);
  kept.setOpen(true);
  press(kept.inner, "a");
  press(kept.inner, "Escape");
  assert.deepEqual(kept.reachedPage, []);
  assert.equal(kept.panel.hidden, true);
  const open = setUp();
  press(open.inner, "a");
  assert.deepEqual(open.reachedPage, ["a"]);
});
