// @ts-check
// The view: the DOM of one chat and its events. It keeps no state of its own
// beyond DOM nodes and scrolling: ChatState holds what is known, this draws it.
// Requests to the kernel carry a request id; no answer within ACK_TIMEOUT_MS
// means the kernel is busy (a cell is running), which the view says.

import { MessageChanges } from "./changes.js";
import { button, h, snippet } from "./dom.js";
import { lastEditable } from "./editing.js";
import { replaceInPlace } from "./in-place.js";
import { BottomFollower } from "./follow.js";
import { buildLayout, KERNEL_GONE } from "./layout.js";
import { adviceFor, count, formatTime, sizeOf } from "./format.js";
import { LIVE_TRAITS, LiveFeatures } from "./live.js";
import { renderMarkdown } from "./markdown.js";
import { Lightbox, renderPart } from "./parts.js";
import { ChatState, sendBlockedBecause } from "./state.js";
import { timelineRows } from "./timeline.js";

const ACK_TIMEOUT_MS = 1500;
const NEAR_EDGE_PX = 48;
const DEFAULT_MAX_TEXT_BYTES = 64 * 1024; // the protocol's limit, when the kernel does not say
const SIZE_SHOWN_FROM = 0.9; // the size line appears at 90% of the limit
/** @type {Record<string, string>} */
const STATUS_LABELS = {
  connecting: "connecting…",
  connected: "connected",
  reconnecting: "reconnecting…",
  disconnected: "disconnected",
};
/** @type {Record<string, string>} */
const LOCAL_LABELS = { sending: "sending…", queued: "waiting for the kernel…", failed: "not sent" };

/**
 * The part of an anywidget model the view uses.
 * @typedef {{get: (name: string) => any, set: (name: string, value: unknown) => void,
 *   save_changes: () => void,
 *   on: (name: string, handler: (...args: any[]) => void) => void,
 *   off: (name: string, handler?: (...args: any[]) => void) => void,
 *   send: (content: object, callbacks?: unknown, buffers?: ArrayBuffer[]) => void}} Model
 * @typedef {{node: HTMLElement, stateLabel: HTMLElement, reason: HTMLElement,
 *   failure: HTMLElement, retry: HTMLButtonElement}} LocalNodes
 * @typedef {{node: HTMLElement, body: HTMLElement, state: HTMLElement, drawn: boolean}} StreamNodes
 */

let counter = 0;
/**
 * @param {string} prefix
 * @returns {string}
 */
function newId(prefix) {
  counter += 1;
  const random = Math.random().toString(36).slice(2, 10);
  return `${prefix}-${Date.now().toString(36)}-${random}-${counter}`;
}

export class ChatView {
  /**
   * @param {Model} model
   * @param {HTMLElement | ShadowRoot} container where the view's root goes
   */
  constructor(model, container) {
    this.model = model;
    this.container = container;
    this.state = new ChatState();
    /** @type {Map<string, HTMLElement>} message id -> node */
    this.nodes = new Map();
    /** @type {Map<string, LocalNodes>} */
    this.localNodes = new Map();
    /** @type {Map<string, StreamNodes>} */
    this.streamNodes = new Map();
    /** @type {Map<string, ReturnType<typeof setTimeout>>} request id -> timer until first answer */
    this.timers = new Map();
    /** @type {Set<string>} request ids whose final answer is still due */
    this.mine = new Set();
    this.loadingOlder = false;
    /** @type {string | null} the send the input box waits for */
    this.composing = null;
    this.unseen = 0; // messages that arrived while scrolled up
    /** @type {string} what the view says once its kernel is gone ("" while it is there) */
    this.gone = "";
    this.lightbox = new Lightbox(container);
    /** @param {HTMLImageElement} image */
    this.enlarge = (image) => this.lightbox.open(image);
    /** @type {[string, (...args: any[]) => void][]} */
    this.listeners = [];
    this.ui = buildLayout();
    this.changes = new MessageChanges({
      request: (content) => this.request(content),
      userId: () => String(this.model.get("user_id") || ""),
      nameOf: (userId) => (userId === this.model.get("user_id") ? "you" : this.state.nameOf(userId)),
      message: (id) => this.state.messages.get(id),
      node: (id) => this.nodes.get(id) || null,
      redraw: (id) => this.redrawMessage(id),
      maxBytes: () => this.maxTextBytes(),
      focusInput: () => this.ui.input.focus(),
    });
    this.follower = new BottomFollower();
    // Content that grows later (an image decoding, a reply being written)
    // keeps a list that was at the bottom there; content that shrank may have
    // had scrollTop lowered by the browser, which the follower notes.
    this.resizer = new ResizeObserver(() => {
      if (this.stick) this.scrollToBottom();
      this.follower.resized(this.ui.list.scrollTop);
    });
    this.resizer.observe(this.ui.items);
    this.resizer.observe(this.ui.live);
    this.build();
    this.live = new LiveFeatures(this);
    /**
     * @param {string} name
     * @param {(...args: any[]) => void} handler
     */
    const on = (name, handler) => {
      model.on(name, handler);
      this.listeners.push([name, handler]);
    };
    on("msg:custom", (content) => this.receive(content));
    for (const name of ["status", "connected", "awaiting_response", "error", "chat_id", "user_id",
      "user_name"]) {
      on(`change:${name}`, () => this.refreshState());
    }
    for (const name of [...LIVE_TRAITS, "chat_id", "user_id"]) on(`change:${name}`, () => this.live.refresh());
    this.live.refresh();
    this.refreshState();
    this.request({ type: "sync" });
  }

  destroy() {
    for (const [name, handler] of this.listeners) this.model.off(name, handler);
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.lightbox.close();
    this.resizer.disconnect();
    this.live.destroy();
  }

  // -- layout -------------------------------------------------------------

  build() {
    const ui = this.ui;
    ui.howToggle.addEventListener("click", () => this.toggleTimeline());
    ui.list.addEventListener("scroll", () => {
      // Only a move up lets go of the bottom: content growing under a list that
      // sticks there does not, nor content shrinking so that the browser lowers
      // scrollTop (see follow.js).
      const top = ui.list.scrollTop;
      if (this.follower.scrolled(top, ui.list.scrollHeight, this.nearBottom())) this.clearUnseen();
      if (top < NEAR_EDGE_PX) this.loadOlder();
    });
    ui.olderButton.addEventListener("click", () => this.loadOlder());
    ui.newBelow.addEventListener("click", () => {
      this.scrollToBottom();
      this.clearUnseen();
    });
    ui.input.addEventListener("keydown", (event) => this.onKey(event));
    ui.input.addEventListener("input", () => {
      ui.hint.textContent = "";
      this.live.inputChanged();
      this.refreshState();
    });
    ui.sendButton.addEventListener("click", () => this.sendFromInput());
    this.container.appendChild(ui.root);
  }

  /** @returns {number} */
  maxTextBytes() {
    const limit = Number(this.model.get("max_text_bytes"));
    return limit > 0 ? limit : DEFAULT_MAX_TEXT_BYTES;
  }

  /** @returns {string} why sending is not possible now ("" when it is) */
  blockedBecause() {
    const m = this.model;
    return sendBlockedBecause({
      connected: Boolean(m.get("connected")),
      status: String(m.get("status") || "connecting"),
      awaiting: Boolean(m.get("awaiting_response")),
      sending: Boolean(this.composing),
      text: this.ui.input.value,
      over: sizeOf(this.ui.input.value, this.maxTextBytes()).over,
      gone: this.gone,
    });
  }

  refreshState() {
    const m = this.model;
    const status = this.gone ? "disconnected" : m.get("status") || "connecting";
    const chatId = m.get("chat_id") || "";
    const who = m.get("user_name") || m.get("user_id") || "";
    this.ui.title.textContent = who ? `${chatId} · ${who}` : chatId;
    this.ui.statusBadge.textContent = this.gone ? "no kernel" : STATUS_LABELS[status] || status;
    this.ui.statusBadge.dataset.status = status;
    const error = this.gone ? "" : m.get("error") || "";
    this.ui.errorNotice.textContent = error;
    this.ui.errorNotice.hidden = !error;
    this.ui.goneNotice.hidden = !this.gone;
    const awaiting = Boolean(m.get("awaiting_response")) && !this.gone;
    this.ui.waiting.hidden = !awaiting;
    this.ui.waiting.textContent = this.state.waitingText();
    this.ui.root.dataset.awaiting = awaiting ? "true" : "false";
    const reason = this.blockedBecause();
    this.ui.sendButton.disabled = Boolean(reason);
    this.ui.sendButton.title = reason || "Send (Enter)";
    const retryable = Boolean(m.get("connected")) && !awaiting && !this.gone;
    for (const nodes of this.localNodes.values()) nodes.retry.disabled = !retryable;
    this.ui.olderButton.hidden = !this.state.hasMore;
    this.ui.olderButton.disabled = this.loadingOlder;
    this.ui.olderButton.textContent = this.loadingOlder ? "Loading…" : "Load older messages";
    this.ui.empty.hidden = !this.state.isEmpty() || this.state.chatId === null;
    this.ui.empty.textContent = `No messages in ${chatId || "this chat"} yet: write the first one below.`;
    this.refreshSize();
  }

  refreshSize() {
    if (!this.ui.input.value && this.ui.size.hidden) return; // nothing typed: nothing to say
    const limit = this.maxTextBytes();
    const { bytes, over, left } = sizeOf(this.ui.input.value, limit);
    this.ui.size.hidden = bytes < limit * SIZE_SHOWN_FROM;
    this.ui.size.dataset.over = over > 0 ? "true" : "false";
    this.ui.size.textContent = over > 0
      ? `Too long to send: remove ${count(over)} characters (a message holds about ${count(limit)} characters).`
      : `${count(left)} characters left before the size limit.`;
  }

  // -- requests to Python, and noticing a busy kernel ----------------------

  /**
   * @param {Record<string, unknown>} content
   * @returns {string} the request id
   */
  request(content) {
    const request_id = newId("req");
    this.timers.set(request_id, setTimeout(() => this.showBusy(), ACK_TIMEOUT_MS));
    this.mine.add(request_id);
    this.model.send({ ...content, request_id });
    return request_id;
  }

  /** @param {string} requestId any message carrying it shows the kernel took the request */
  acknowledged(requestId) {
    const timer = this.timers.get(requestId);
    if (timer === undefined) return;
    clearTimeout(timer);
    this.timers.delete(requestId);
    if (this.timers.size === 0) this.ui.busyNotice.hidden = true;
  }

  /**
   * @param {string} requestId
   * @returns {boolean} whether it is the final answer to one of this view's requests
   */
  finalAnswer(requestId) {
    return this.mine.delete(requestId);
  }

  showBusy() {
    if (this.gone) return;
    this.ui.busyNotice.hidden = false;
    for (const item of this.state.queueSending()) this.drawLocal(item);
  }

  /**
   * The kernel behind this view is gone: say so, and stop waiting for it.
   * @param {import("./kernel.js").KernelEnd} end
   */
  kernelGone(end) {
    if (this.gone) return;
    const words = KERNEL_GONE[end];
    this.gone = words;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.ui.busyNotice.hidden = true;
    this.ui.goneNotice.textContent = words;
    for (const item of this.state.local.values()) {
      this.state.upsertLocal(item.local_id, item.text, "failed", { code: "kernel_gone", message: words });
      this.drawLocal(item);
    }
    this.changes.kernelGone(words);
    this.ui.input.placeholder = words;
    this.refreshState();
  }

  // -- messages from Python --------------------------------------------------

  /** @param {any} content */
  receive(content) {
    if (!content || typeof content !== "object") return;
    if (content.request_id) this.acknowledged(content.request_id);
    switch (content.type) {
      case "snapshot":
        if (!content.request_id || this.finalAnswer(content.request_id)) this.applySnapshot(content);
        break;
      case "message":
        this.addMessage(content.message, content.local_id);
        break;
      case "sent":
        // A send stored while the kernel still handled its request is answered by `sent`
        // alone (no `sending`): the sending view's request is over, and the other views
        // learn of the send from it.
        if (content.request_id) this.finalAnswer(content.request_id);
        this.addEvents(content.events); // its steps so far ride on it
        this.addMessage(content.message, content.local_id);
        break;
      case "sending":
        if (content.request_id) this.finalAnswer(content.request_id);
        if (content.chat_id === this.state.chatId) this.upsertLocal(content.local_id, content.text, "sending");
        break;
      case "send_failed":
        this.addEvents(content.events);
        this.sendFailed(content.local_id, content.error, content.retryable !== false);
        break;
      case "older":
        if (this.finalAnswer(content.request_id)) this.applyOlder(content);
        break;
      case "message_updated":
        this.updateMessage(content.message);
        break;
      case "changed":
        this.updateMessage(content.message);
        if (this.finalAnswer(content.request_id)) this.redrawMessage(this.changes.done(content.request_id));
        break;
      case "change_failed":
        if (this.finalAnswer(content.request_id)) {
          this.changes.failed(content.request_id, content.action, content.error?.message || "something went wrong.");
        }
        break;
      case "delta":
        this.addDelta(content.delta);
        break;
      case "reply_failed":
        this.replyFailed(content.reply_failed);
        break;
      case "event":
        this.addEvents([content.event]);
        break;
      case "events":
        this.addEvents(content.events);
        break;
      default:
        this.live.receive(content);
        break;
    }
    this.refreshState();
  }

  /** @param {any[] | undefined} events steps of sends, for "How it was sent" */
  addEvents(events) {
    let added = false;
    for (const event of Array.isArray(events) ? events : []) added = this.state.addEvent(event) || added;
    if (added) this.renderTimeline();
  }

  /** @param {any} snapshot */
  applySnapshot(snapshot) {
    const switched = this.state.switchTo(snapshot.chat_id);
    if (switched) {
      this.nodes.clear();
      this.ui.items.replaceChildren();
      this.localNodes.clear();
      this.streamNodes.clear();
      this.ui.live.replaceChildren();
      this.composing = null;
      this.changes.clear();
      this.clearUnseen();
    }
    for (const event of snapshot.events || []) this.state.addEvent(event);
    for (const message of snapshot.messages || []) this.addMessage(message, null, false);
    for (const entry of snapshot.outbox || []) {
      if (!this.state.local.has(entry.local_id)) {
        this.upsertLocal(entry.local_id, entry.text, entry.state, entry.error);
      }
    }
    this.state.hasMore = Boolean(snapshot.has_more);
    this.renderTimeline();
    this.scrollToBottom();
    this.live.snapshotApplied(switched, snapshot);
  }

  /** @param {any} page */
  applyOlder(page) {
    this.loadingOlder = false;
    if (page.chat_id !== this.state.chatId) return;
    this.state.hasMore = Boolean(page.has_more);
    if (page.error) this.ui.errorNotice.textContent = page.error;
    const before = this.ui.list.scrollHeight;
    for (const message of page.messages || []) this.addMessage(message, null, false);
    this.ui.list.scrollTop += this.ui.list.scrollHeight - before; // what was on screen stays in place
    this.live.olderApplied();
  }

  loadOlder() {
    const oldest = this.state.oldestSeq();
    if (!this.state.hasMore || this.loadingOlder || oldest === null) return;
    this.loadingOlder = true;
    this.request({ type: "older", before_seq: oldest });
    this.refreshState();
  }

  /**
   * @param {any} message
   * @param {string | null | undefined} localId
   * @param {boolean} [follow] whether this is news (a page of history is not)
   */
  addMessage(message, localId, follow = true) {
    if (!message || message.chat_id !== this.state.chatId) return;
    if (localId) this.removeLocal(localId);
    if (this.state.endStream(message.id)) {
      this.streamNodes.get(message.id)?.node.remove();
      this.streamNodes.delete(message.id);
    }
    const placed = this.state.addMessage(message);
    if (!placed) {
      this.updateMessage(message); // a page or snapshot may carry a newer state of one shown
      return;
    }
    const node = this.messageNode(message);
    this.nodes.set(message.id, node);
    this.ui.items.insertBefore(node, placed.next ? this.nodes.get(placed.next.id) || null : null);
    if (!follow) return;
    // No layout is read here (a page of messages would lay the list out once
    // per message): while the list sticks to the bottom, the ResizeObserver
    // scrolls it there once the browser has laid the new content out.
    if (this.stick || this.isOwn(message)) {
      this.stick = true;
    } else {
      this.unseen += 1;
      this.ui.newBelow.hidden = false;
      this.ui.newBelow.textContent = `↓ ${this.unseen} new ${this.unseen === 1 ? "message" : "messages"}`;
    }
  }

  /** @param {any} message a newer state of a stored message: drawn again in its place */
  updateMessage(message) {
    if (!this.state.updateMessage(message)) return;
    this.redrawMessage(message.id);
    for (const reply of this.state.repliesTo(message.id)) this.redrawMessage(reply.id);
  }

  /**
   * Draws a stored message again in its place, keeping the reader's place and focus.
   * @param {string | null} id
   */
  redrawMessage(id) {
    const old = id ? this.nodes.get(id) : undefined;
    const message = id ? this.state.messages.get(id) : undefined;
    if (!id || !old || !message) return;
    this.nodes.set(id, replaceInPlace(old, () => this.messageNode(message), this.ui.list, this.stick));
  }

  clearUnseen() {
    this.unseen = 0;
    this.ui.newBelow.hidden = true;
  }

  /**
   * @param {any} message
   * @returns {boolean}
   */
  isOwn(message) {
    const sender = message.sender || {};
    return sender.kind !== "bot" && sender.id === this.model.get("user_id");
  }

  /**
   * @param {any} message
   * @returns {HTMLElement}
   */
  messageNode(message) {
    const sender = message.sender || {};
    const own = this.isOwn(message);
    const node = h("div", "cw-message");
    node.dataset.seq = String(message.seq);
    node.dataset.id = message.id;
    if (message.client_id) node.dataset.clientId = message.client_id;
    if (own) {
      node.classList.add("cw-own");
      node.dataset.state = "stored";
    }
    if (sender.kind === "bot") node.classList.add("cw-bot");
    const meta = h("div", "cw-meta");
    const time = formatTime(message.created_at);
    const timeNode = h("time", "cw-time", time.label);
    timeNode.title = time.full;
    if (message.created_at) timeNode.dateTime = String(message.created_at);
    meta.append(h("span", "cw-sender", own ? "you" : sender.name || sender.id || "?"), timeNode);
    if (own && !message.deleted) meta.append(h("span", "cw-state", "✓ stored"));
    node.append(meta);
    if (message.reply_to) node.append(this.quoteNode(message.reply_to));
    if (message.deleted) {
      node.classList.add("cw-deleted");
      node.append(h("div", "cw-text cw-tombstone", "message deleted"));
      this.changes.decorate(node, message); // what was under way on it ends
      return node;
    }
    if (message.text) node.append(renderMarkdown(message.text, "cw-text cw-md"));
    for (const part of Array.isArray(message.parts) ? message.parts : []) {
      node.append(renderPart(part, this.enlarge, this.live.links));
    }
    const why = this.state.noReply.get(message.id);
    if (why) node.append(h("div", "cw-no-reply", `No reply: ${why}`));
    this.live.decorate(node, message);
    this.changes.decorate(node, message);
    return node;
  }

  /**
   * @param {string} replyTo
   * @returns {HTMLElement}
   */
  quoteNode(replyTo) {
    const original = this.state.messages.get(replyTo);
    if (!original) return h("div", "cw-quote", "↪ answering an earlier message");
    const who = this.isOwn(original) ? "you" : original.sender?.name || "?";
    if (original.deleted) return h("div", "cw-quote", `↪ ${who}: message deleted`);
    const parts = Array.isArray(original.parts) ? original.parts : [];
    const what = original.text || parts.map((/** @type {any} */ part) => `[${part?.type || "?"}]`).join(" ");
    return h("div", "cw-quote", `↪ ${who}: ${snippet(what)}`);
  }

  // -- own messages not stored yet -------------------------------------------

  /**
   * @param {string} localId
   * @param {string} text
   * @param {import("./state.js").LocalState} state
   * @param {import("./state.js").ErrorInfo | null} [error]
   */
  upsertLocal(localId, text, state, error = null) {
    const { item, created } = this.state.upsertLocal(localId, text, state, error);
    if (created) {
      const node = h("div", "cw-message cw-own cw-local");
      node.dataset.localId = localId;
      const meta = h("div", "cw-meta");
      const stateLabel = h("span", "cw-state");
      meta.append(h("span", "cw-sender", "you"), stateLabel);
      const failure = h("div", "cw-failure");
      const reason = h("span", "cw-reason");
      const retry = button("cw-retry", "Retry");
      retry.addEventListener("click", () => this.retry(localId));
      failure.append(reason, retry);
      node.append(meta, renderMarkdown(text, "cw-text cw-md"), failure);
      this.localNodes.set(localId, { node, stateLabel, reason, failure, retry });
      this.ui.items.append(node); // in the order sent: newer messages come after it
      this.scrollToBottom();
    }
    this.drawLocal(item);
  }

  /** @param {import("./state.js").LocalItem} item */
  drawLocal(item) {
    const nodes = this.localNodes.get(item.local_id);
    if (!nodes) return;
    nodes.node.dataset.state = item.state;
    nodes.stateLabel.textContent = LOCAL_LABELS[item.state] || item.state;
    nodes.reason.textContent = item.state === "failed" ? adviceFor(item.error) : "";
    nodes.failure.hidden = item.state !== "failed";
    nodes.retry.hidden = Boolean(this.gone);
  }

  /** @param {string} localId */
  removeLocal(localId) {
    const item = this.state.removeLocal(localId);
    this.localNodes.get(localId)?.node.remove();
    this.localNodes.delete(localId);
    if (item && this.composing === localId) {
      this.composing = null;
      if (this.ui.input.value === item.text) this.ui.input.value = ""; // stored: the box may clear
    }
  }

  /**
   * @param {string} localId
   * @param {import("./state.js").ErrorInfo} error
   * @param {boolean} retryable
   */
  sendFailed(localId, error, retryable) {
    if (this.composing === localId) this.composing = null; // the text stays in the box
    const item = this.state.local.get(localId);
    if (!item) return;
    if (retryable) {
      this.state.upsertLocal(localId, item.text, "failed", error);
      this.drawLocal(item);
    } else {
      // The content itself cannot go (empty, too large): nothing to retry; `error` says why.
      this.state.removeLocal(localId);
      this.localNodes.get(localId)?.node.remove();
      this.localNodes.delete(localId);
    }
  }

  /** @param {KeyboardEvent} event */
  onKey(event) {
    event.stopPropagation(); // keys typed here are not notebook shortcuts
    if (this.live.onKey(event)) return;
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      this.sendFromInput();
    } else if (event.key === "ArrowUp" && this.ui.input.value === "" && !event.isComposing) {
      const last = lastEditable(this.state.order, String(this.model.get("user_id") || ""));
      if (last && this.changes.startEdit(last)) event.preventDefault();
    }
  }

  sendFromInput() {
    const text = this.ui.input.value;
    this.refreshState();
    const reason = this.blockedBecause();
    if (reason) {
      this.ui.hint.textContent = text.trim() ? reason : "";
      return;
    }
    this.ui.hint.textContent = "";
    const localId = newId("js");
    this.composing = localId;
    const stopTyping = this.live.sent();
    // The request first: drawing the pending item (markdown, layout) is not on its path.
    this.request({ type: "send", local_id: localId, text, ...(stopTyping ? { stop_typing: stopTyping } : {}) });
    this.upsertLocal(localId, text, "sending");
    this.refreshState();
  }

  /** @param {string} localId */
  retry(localId) {
    const item = this.state.local.get(localId);
    if (!item || !this.model.get("connected") || this.model.get("awaiting_response") || this.gone) return;
    this.state.upsertLocal(localId, item.text, "sending");
    this.drawLocal(item);
    if (this.ui.input.value === item.text) this.composing = localId; // stored: clear the box
    this.request({ type: "send", local_id: localId, text: item.text });
  }

  // -- replies being written, and replies that never came -------------------

  /** @param {any} delta a piece of a reply: shown at once, re-rendered at most once a frame */
  addDelta(delta) {
    const added = this.state.addDelta(delta);
    if (!added) return;
    const { stream, created } = added;
    if (created) {
      const node = h("div", "cw-message cw-bot cw-streaming");
      node.dataset.id = stream.id;
      const meta = h("div", "cw-meta");
      const state = h("span", "cw-state");
      meta.append(h("span", "cw-sender", "bot"), state);
      const body = h("div", "cw-text cw-md");
      node.append(meta);
      if (stream.reply_to) node.append(this.quoteNode(stream.reply_to));
      node.append(body);
      this.streamNodes.set(stream.id, { node, body, state, drawn: false });
      this.ui.live.append(node);
    }
    const nodes = /** @type {StreamNodes} */ (this.streamNodes.get(stream.id));
    nodes.state.textContent = `writing… ${stream.count} ${stream.count === 1 ? "piece" : "pieces"}`;
    nodes.node.dataset.pieces = String(stream.count);
    if (!nodes.drawn) {
      nodes.drawn = true;
      requestAnimationFrame(() => this.drawStream(stream, nodes));
    }
  }

  /**
   * @param {import("./state.js").Stream} stream
   * @param {StreamNodes} nodes
   */
  drawStream(stream, nodes) {
    nodes.drawn = false;
    if (!nodes.node.isConnected) return;
    const atBottom = this.nearBottom();
    nodes.body.replaceChildren(...renderMarkdown(ChatState.streamText(stream), "").childNodes);
    if (atBottom) this.scrollToBottom();
  }

  /** @param {any} payload */
  replyFailed(payload) {
    if (!payload || payload.chat_id !== this.state.chatId) return;
    const why = (payload.error?.message) || "the responder could not answer";
    for (const id of this.state.replyFailed(payload.reply_to, why)) {
      this.streamNodes.get(id)?.node.remove();
      this.streamNodes.delete(id);
    }
    this.nodes.get(payload.reply_to)?.append(h("div", "cw-no-reply", `No reply: ${why}`));
  }

  // -- how it was sent ---------------------------------------------------------

  toggleTimeline() {
    this.ui.timeline.hidden = !this.ui.timeline.hidden;
    this.ui.howToggle.setAttribute("aria-pressed", this.ui.timeline.hidden ? "false" : "true");
    this.renderTimeline();
  }

  renderTimeline() {
    if (this.ui.timeline.hidden) return;
    this.ui.timeline.replaceChildren(...timelineRows(this.state.timelines, (id) => this.state.textOfSend(id)));
  }

  // -- scrolling -----------------------------------------------------------------

  /** @returns {boolean} whether the list follows new content (it is scrolled to the bottom) */
  get stick() {
    return this.follower.stick;
  }

  /** @param {boolean} value false when the view scrolls up itself (a jump, the unread divider) */
  set stick(value) {
    this.follower.stick = value;
  }

  /** @returns {boolean} */
  nearBottom() {
    const list = this.ui.list;
    return list.scrollHeight - list.scrollTop - list.clientHeight < NEAR_EDGE_PX;
  }

  scrollToBottom() {
    this.ui.list.scrollTop = this.ui.list.scrollHeight;
    this.stick = true; // at the bottom now, before the scroll event says so
  }
}
