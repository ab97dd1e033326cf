// Two views of one widget, driven as the kernel drives them: a send the
// kernel stores while it still handles the request is answered by `sent`
// alone, with no `sending` before it.

import { dom } from "./dom-env.js";
import assert from "node:assert/strict";
import { test } from "node:test";
import { ChatView } from "./view.js";

/** One widget's model as anywidget gives it to each of its views: traits, custom messages. */
class WidgetModel {
  constructor() {
    /** @type {Record<string, unknown>} */
    this.traits = {
      status: "connected", connected: true, chat_id: "general", user_id: "u-alice",
      user_name: "alice", awaiting_response: false, error: "",
    };
    /** @type {Map<string, ((...args: any[]) => void)[]>} */
    this.handlers = new Map();
    /** @type {any[]} what the views sent the kernel */
    this.sent = [];
  }

  /** @param {string} name */
  get(name) {
    return this.traits[name];
  }

  /**
   * @param {string} name
   * @param {unknown} value
   */
  set(name, value) {
    this.traits[name] = value;
  }

  save_changes() {}

  /**
   * @param {string} name
   * @param {(...args: any[]) => void} handler
   */
  on(name, handler) {
    this.handlers.set(name, [...(this.handlers.get(name) || []), handler]);
  }

  /**
   * @param {string} name
   * @param {(...args: any[]) => void} [handler]
   */
  off(name, handler) {
    this.handlers.set(name, (this.handlers.get(name) || []).filter((h) => handler && h !== handler));
  }

  /** @param {object} content */
  send(content) {
    this.sent.push(content);
  }

  /** @param {object} content a custom message from the kernel: every view receives it */
  fromKernel(content) {
    for (const handler of this.handlers.get("msg:custom") || []) handler(content);
  }
}

/** @param {WidgetModel} model */
function openView(model) {
  const container = dom.window.document.createElement("div");
  dom.window.document.body.append(container);
  return { view: new ChatView(model, container), container };
}

/** @param {HTMLElement} container */
function shown(container) {
  return {
    stored: [...container.querySelectorAll(".cw-message[data-id]")].map((node) => node.textContent),
    local: [...container.querySelectorAll(".cw-local")].map((node) => node.textContent),
  };
}

test("a `sent` with no `sending` before it answers the request, in the view that sent and in another", () => {
  const model = new WidgetModel();
  const mine = openView(model);
  const other = openView(model);
  for (const sync of model.sent.filter((content) => content.type === "sync")) {
    model.fromKernel({ type: "snapshot", request_id: sync.request_id, chat_id: "general",
      last_read_seq: 0, messages: [], has_more: false, outbox: [], events: [] });
  }

  mine.view.ui.input.value = "stored at once";
  mine.view.ui.input.dispatchEvent(new dom.window.KeyboardEvent("keydown", { key: "Enter" }));
  const send = model.sent.find((content) => content.type === "send");
  assert.equal(send.text, "stored at once");
  assert.match(shown(mine.container).local.join(), /sending…/);
  assert.deepEqual(shown(other.container), { stored: [], local: [] }); // it never hears `sending`

  model.fromKernel({
    type: "sent", request_id: send.request_id, local_id: send.local_id, events: [],
    message: { id: "m1", chat_id: "general", seq: 1, client_id: send.local_id, text: "stored at once",
      sender: { id: "u-alice", name: "alice", kind: "user" }, created_at: "2026-12-01T21:00:00Z" },
  });
  for (const { container } of [mine, other]) {
    const { stored, local } = shown(container);
    assert.equal(stored.length, 1);
    assert.match(stored[0], /you.*✓ stored.*stored at once/s);
    assert.deepEqual(local, []);
  }
  assert.equal(mine.view.ui.input.value, ""); // the box clears: its text is stored
  assert.equal(mine.view.composing, null);
  // The request is over: no "kernel is busy" later, and no answer still awaited.
  assert.equal(mine.view.timers.size, 0);
  assert.equal(mine.view.mine.has(send.request_id), false);
  assert.equal(mine.view.ui.busyNotice.hidden, true);
  mine.view.destroy();
  other.view.destroy();
});
