// ChatWidget's view: message list, input box, status, send timeline.
//
// Plain DOM, no framework, no build step. Every piece of user or server text
// goes in with textContent, never as HTML. Synced traits (status, connected,
// awaiting_response, error, chat_id, user_id) are read from the model; messages
// arrive as custom messages (docs/widget.md lists them). Each view asks for its
// own first page, so two views of one widget show the same chat.

const ACK_TIMEOUT_MS = 1500; // no answer to a request by then: the kernel is busy
const NEAR_EDGE_PX = 48;
const TIMELINE_SENDS = 30;
const STEP_LABELS = {
  auth_fetch_start: "auth fetch",
  auth_fetched: "auth fetched",
  emit: "emit",
  ack: "ack",
  broadcast: "broadcast",
  reply: "reply",
};
const STATUS_LABELS = {
  connecting: "connecting…",
  connected: "connected",
  reconnecting: "reconnecting…",
  disconnected: "disconnected",
};

let counter = 0;
function newId(prefix) {
  counter += 1;
  const random = Math.random().toString(36).slice(2, 10);
  return `${prefix}-${Date.now().toString(36)}-${random}-${counter}`;
}

function h(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

function formatTime(created_at) {
  const date = new Date(created_at);
  if (Number.isNaN(date.getTime())) return "";
  return date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

function snippet(text, length = 80) {
  const flat = String(text || "").replace(/\s+/g, " ").trim();
  return flat.length > length ? `${flat.slice(0, length - 1)}…` : flat;
}

// Rich content parts, built from data: text stays text, images only as data URLs
// of the protocol's three image types (an <img> never runs script).
const IMAGE_MIMES = ["image/png", "image/jpeg", "image/svg+xml"];
function renderPart(part) {
  const type = part && typeof part.type === "string" ? part.type : "unknown";
  if (type === "markdown") return h("div", "cw-part cw-markdown", part.text);
  if (type === "code") {
    const pre = h("pre", "cw-part cw-code");
    const code = h("code", null, part.text);
    if (part.language) code.dataset.language = String(part.language);
    pre.append(code);
    return pre;
  }
  if (type === "table" && Array.isArray(part.columns) && Array.isArray(part.rows)) {
    const table = h("table", "cw-part cw-table");
    const head = table.createTHead().insertRow();
    for (const column of part.columns) head.append(h("th", null, column));
    const body = table.createTBody();
    for (const row of part.rows) {
      const tr = body.insertRow();
      for (const cell of Array.isArray(row) ? row : []) tr.append(h("td", null, cell));
    }
    return table;
  }
  if (type === "image" && IMAGE_MIMES.includes(part.mime) && typeof part.data === "string") {
    const img = h("img", "cw-part cw-image");
    img.alt = "image";
    img.src = `data:${part.mime};base64,${part.data}`;
    return img;
  }
  return h("div", "cw-part cw-unknown", `[${type}]`);
}

class ChatView {
  constructor(model, el) {
    this.model = model;
    this.el = el;
    this.chatId = null;
    this.messages = new Map(); // id -> message, the stored ones
    this.order = []; // stored messages by seq
    this.nodes = new Map(); // message id -> node
    this.local = new Map(); // local_id -> {local_id, text, state, error, node}
    this.streams = new Map(); // reply id -> {reply_to, pieces, node}
    this.noReply = new Map(); // message id -> why no reply came
    this.timelines = new Map(); // client_id -> [event]
    this.timers = new Map(); // request_id -> timer, until the kernel first answers it
    this.mine = new Set(); // request ids this view sent whose final answer is still due
    this.hasMore = false;
    this.loadingOlder = false;
    this.composing = null; // local_id of the send the input box waits for
    this.build();
    this.listeners = [];
    const on = (name, handler) => {
      model.on(name, handler);
      this.listeners.push([name, handler]);
    };
    on("msg:custom", (content) => this.receive(content));
    for (const name of ["status", "connected", "awaiting_response", "error", "chat_id", "user_id"]) {
      on(`change:${name}`, () => this.refreshState());
    }
    this.refreshState();
    this.request({ type: "sync" });
  }

  destroy() {
    for (const [name, handler] of this.listeners) this.model.off(name, handler);
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  // -- layout -------------------------------------------------------------

  build() {
    const root = h("div", "cw-root");
    root.dataset.lmSuppressShortcuts = "true"; // typing here is not a notebook shortcut
    const header = h("div", "cw-header");
    this.title = h("span", "cw-title");
    this.statusBadge = h("span", "cw-status");
    this.eventsToggle = h("button", "cw-events-toggle", "events");
    this.eventsToggle.type = "button";
    this.eventsToggle.title = "Show the timeline of each send";
    this.eventsToggle.setAttribute("aria-pressed", "false");
    this.eventsToggle.addEventListener("click", () => this.toggleTimeline());
    header.append(this.title, this.statusBadge, this.eventsToggle);

    this.errorNotice = h("div", "cw-notice cw-error");
    this.errorNotice.setAttribute("role", "alert");
    this.busyNotice = h(
      "div",
      "cw-notice cw-busy",
      "The kernel is busy (a cell is running): the chat will catch up when it is free.",
    );
    this.busyNotice.hidden = true;

    this.list = h("div", "cw-list");
    this.list.addEventListener("scroll", () => {
      if (this.list.scrollTop < NEAR_EDGE_PX) this.loadOlder();
    });
    this.olderButton = h("button", "cw-older", "Load older messages");
    this.olderButton.type = "button";
    this.olderButton.addEventListener("click", () => this.loadOlder());
    this.items = h("div", "cw-items");
    this.live = h("div", "cw-live"); // streaming replies, then own unsent messages
    this.list.append(this.olderButton, this.items, this.live);

    this.timeline = h("div", "cw-timeline");
    this.timeline.hidden = true;

    this.waiting = h("div", "cw-waiting", "Waiting for a reply…");
    this.waiting.setAttribute("aria-live", "polite");

    const composer = h("div", "cw-composer");
    this.input = h("textarea", "cw-input");
    this.input.rows = 2;
    this.input.placeholder = "Write a message (Enter sends, Shift+Enter for a new line)";
    this.input.addEventListener("keydown", (event) => this.onKey(event));
    this.input.addEventListener("input", () => this.refreshState());
    this.sendButton = h("button", "cw-send", "Send");
    this.sendButton.type = "button";
    this.sendButton.addEventListener("click", () => this.sendFromInput());
    composer.append(this.input, this.sendButton);

    root.append(header, this.errorNotice, this.busyNotice, this.list, this.timeline,
      this.waiting, composer);
    this.el.append(root);
    this.root = root;
  }

  refreshState() {
    const m = this.model;
    const status = m.get("status") || "connecting";
    const chatId = m.get("chat_id") || "";
    const who = m.get("user_name") || m.get("user_id") || "";
    this.title.textContent = who ? `${chatId} · ${who}` : chatId;
    this.statusBadge.textContent = STATUS_LABELS[status] || status;
    this.statusBadge.dataset.status = status;
    const error = m.get("error") || "";
    this.errorNotice.textContent = error;
    this.errorNotice.hidden = !error;
    const awaiting = Boolean(m.get("awaiting_response"));
    this.waiting.hidden = !awaiting;
    this.root.dataset.awaiting = awaiting ? "true" : "false";
    let reason = "";
    if (!m.get("connected")) reason = `Cannot send while ${STATUS_LABELS[status] || status}`;
    else if (awaiting) reason = "Waiting for the reply to your last message";
    else if (this.composing) reason = "Sending…";
    else if (!this.input.value.trim()) reason = "Type a message first";
    this.sendButton.disabled = Boolean(reason);
    this.sendButton.title = reason || "Send (Enter)";
    for (const item of this.local.values()) item.retry.disabled = !m.get("connected") || awaiting;
    this.olderButton.hidden = !this.hasMore;
    this.olderButton.disabled = this.loadingOlder;
    this.olderButton.textContent = this.loadingOlder ? "Loading…" : "Load older messages";
  }

  // -- requests to Python, and noticing a busy kernel ----------------------

  request(content) {
    const request_id = newId("req");
    this.timers.set(request_id, setTimeout(() => this.showBusy(), ACK_TIMEOUT_MS));
    this.mine.add(request_id);
    this.model.send({ ...content, request_id });
    return request_id;
  }

  // Any message carrying one of our request ids shows the kernel took the request.
  acknowledged(request_id) {
    const timer = this.timers.get(request_id);
    if (timer === undefined) return;
    clearTimeout(timer);
    this.timers.delete(request_id);
    if (this.timers.size === 0) this.busyNotice.hidden = true;
  }

  // The final answer to one of our requests (other views' answers are not ours).
  finalAnswer(request_id) {
    return this.mine.delete(request_id);
  }

  showBusy() {
    this.busyNotice.hidden = false;
    for (const item of this.local.values()) {
      if (item.state === "sending") this.setLocalState(item, "queued");
    }
  }

  // -- messages from Python --------------------------------------------------

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
      case "sending":
        if (content.request_id) this.finalAnswer(content.request_id);
        if (content.chat_id === this.chatId) this.upsertLocal(content.local_id, content.text, "sending");
        break;
      case "sent":
        this.addMessage(content.message, content.local_id);
        break;
      case "send_failed":
        this.sendFailed(content.local_id, content.error, content.retryable !== false);
        break;
      case "older":
        if (this.finalAnswer(content.request_id)) this.applyOlder(content);
        break;
      case "delta":
        this.addDelta(content.delta);
        break;
      case "reply_failed":
        this.replyFailed(content.reply_failed);
        break;
      case "event":
        this.addEvent(content.event);
        break;
      default:
        break;
    }
    this.refreshState();
  }

  applySnapshot(snapshot) {
    if (snapshot.chat_id !== this.chatId) {
      this.chatId = snapshot.chat_id;
      this.messages.clear();
      this.order = [];
      this.nodes.clear();
      this.items.replaceChildren();
      for (const item of this.local.values()) item.node.remove();
      this.local.clear();
      for (const stream of this.streams.values()) stream.node.remove();
      this.streams.clear();
      this.composing = null;
    }
    for (const event of snapshot.events || []) this.addEvent(event, false);
    for (const message of snapshot.messages || []) this.addMessage(message, null, false);
    for (const entry of snapshot.outbox || []) {
      if (!this.local.has(entry.local_id)) {
        this.upsertLocal(entry.local_id, entry.text, entry.state, entry.error);
      }
    }
    this.hasMore = Boolean(snapshot.has_more);
    this.renderTimeline();
    this.scrollToBottom();
  }

  applyOlder(page) {
    this.loadingOlder = false;
    if (page.chat_id !== this.chatId) return;
    this.hasMore = Boolean(page.has_more);
    if (page.error) this.errorNotice.textContent = page.error;
    const before = this.list.scrollHeight;
    for (const message of page.messages || []) this.addMessage(message, null, false);
    this.list.scrollTop += this.list.scrollHeight - before; // keep what was on screen in place
  }

  loadOlder() {
    if (!this.hasMore || this.loadingOlder || this.order.length === 0) return;
    this.loadingOlder = true;
    this.request({ type: "older", before_seq: this.order[0].seq });
    this.refreshState();
  }

  addMessage(message, local_id, follow = true) {
    if (!message || message.chat_id !== this.chatId) return;
    if (local_id && this.local.has(local_id)) this.removeLocal(local_id);
    const stream = this.streams.get(message.id);
    if (stream) {
      stream.node.remove();
      this.streams.delete(message.id);
    }
    if (this.messages.has(message.id)) return;
    const atBottom = this.nearBottom();
    this.messages.set(message.id, message);
    const node = this.messageNode(message);
    this.nodes.set(message.id, node);
    // Insert by seq; new messages almost always go last.
    let index = this.order.length;
    while (index > 0 && this.order[index - 1].seq > message.seq) index -= 1;
    const next = this.order[index];
    this.order.splice(index, 0, message);
    this.items.insertBefore(node, next ? this.nodes.get(next.id) : null);
    if (follow && atBottom) this.scrollToBottom();
  }

  isOwn(message) {
    const sender = message.sender || {};
    return sender.kind !== "bot" && sender.id === this.model.get("user_id");
  }

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
    meta.append(
      h("span", "cw-sender", own ? "you" : sender.name || sender.id || "?"),
      h("span", "cw-time", formatTime(message.created_at)),
    );
    if (own) meta.append(h("span", "cw-state", "✓ stored"));
    node.append(meta);
    if (message.reply_to) node.append(this.quoteNode(message.reply_to));
    if (message.text) node.append(h("div", "cw-text", message.text));
    for (const part of Array.isArray(message.parts) ? message.parts : []) node.append(renderPart(part));
    const why = this.noReply.get(message.id);
    if (why) node.append(h("div", "cw-no-reply", `No reply: ${why}`));
    return node;
  }

  quoteNode(reply_to) {
    const original = this.messages.get(reply_to);
    if (!original) return h("div", "cw-quote", "↪ answering an earlier message");
    const who = this.isOwn(original) ? "you" : (original.sender || {}).name || "?";
    return h("div", "cw-quote", `↪ ${who}: ${snippet(original.text)}`);
  }

  // -- own messages not stored yet -------------------------------------------

  upsertLocal(local_id, text, state, error = null) {
    let item = this.local.get(local_id);
    if (!item) {
      const node = h("div", "cw-message cw-own cw-local");
      node.dataset.localId = local_id;
      const meta = h("div", "cw-meta");
      const stateLabel = h("span", "cw-state");
      meta.append(h("span", "cw-sender", "you"), stateLabel);
      const failure = h("div", "cw-failure");
      const reason = h("span", "cw-reason");
      const retry = h("button", "cw-retry", "Retry");
      retry.type = "button";
      retry.addEventListener("click", () => this.retry(local_id));
      failure.append(reason, retry);
      node.append(meta, h("div", "cw-text", text), failure);
      item = { local_id, text, state, error, node, stateLabel, reason, retry };
      this.local.set(local_id, item);
      this.live.append(node);
      this.scrollToBottom();
    }
    this.setLocalState(item, state, error);
  }

  setLocalState(item, state, error = null) {
    item.state = state;
    item.error = error;
    item.node.dataset.state = state;
    const labels = { sending: "sending…", queued: "waiting for the kernel…", failed: "failed" };
    item.stateLabel.textContent = labels[state] || state;
    item.reason.textContent = error ? error.message || String(error) : "";
    item.node.querySelector(".cw-failure").hidden = state !== "failed";
  }

  removeLocal(local_id) {
    const item = this.local.get(local_id);
    if (!item) return;
    item.node.remove();
    this.local.delete(local_id);
    if (this.composing === local_id) {
      this.composing = null;
      if (this.input.value === item.text) this.input.value = ""; // stored: the box may clear
    }
  }

  sendFailed(local_id, error, retryable) {
    const item = this.local.get(local_id);
    if (this.composing === local_id) this.composing = null; // the text stays in the box
    if (!item) return;
    if (retryable) {
      this.setLocalState(item, "failed", error);
    } else {
      // The content itself cannot go (empty, too large): no bubble to retry; `error` says why.
      item.node.remove();
      this.local.delete(local_id);
    }
  }

  onKey(event) {
    event.stopPropagation(); // keys typed here are not notebook shortcuts
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      this.sendFromInput();
    }
  }

  sendFromInput() {
    const text = this.input.value;
    this.refreshState();
    if (!text.trim() || this.sendButton.disabled) return;
    const local_id = newId("js");
    this.composing = local_id;
    this.upsertLocal(local_id, text, "sending");
    this.request({ type: "send", local_id, text });
    this.refreshState();
  }

  retry(local_id) {
    const item = this.local.get(local_id);
    if (!item || !this.model.get("connected") || this.model.get("awaiting_response")) return;
    this.setLocalState(item, "sending");
    if (this.input.value === item.text) this.composing = local_id; // stored: clear the box
    this.request({ type: "send", local_id, text: item.text });
  }

  // -- replies being written, and replies that never came -------------------

  addDelta(delta) {
    if (!delta || delta.chat_id !== this.chatId || this.messages.has(delta.id)) return;
    let stream = this.streams.get(delta.id);
    if (!stream) {
      const node = h("div", "cw-message cw-bot cw-streaming");
      const meta = h("div", "cw-meta");
      meta.append(h("span", "cw-sender", "bot"), h("span", "cw-state", "writing…"));
      const text = h("div", "cw-text");
      node.append(meta);
      if (delta.reply_to) node.append(this.quoteNode(delta.reply_to));
      node.append(text);
      stream = { reply_to: delta.reply_to, pieces: [], node, text };
      this.streams.set(delta.id, stream);
      this.live.prepend(node);
    }
    stream.pieces[delta.index] = delta.delta;
    const atBottom = this.nearBottom();
    stream.text.textContent = stream.pieces.join("");
    if (atBottom) this.scrollToBottom();
  }

  replyFailed(payload) {
    if (!payload || payload.chat_id !== this.chatId) return;
    const why = (payload.error && payload.error.message) || "the responder could not answer";
    this.noReply.set(payload.reply_to, why);
    for (const [id, stream] of this.streams) {
      if (stream.reply_to === payload.reply_to) {
        stream.node.remove();
        this.streams.delete(id);
      }
    }
    const node = this.nodes.get(payload.reply_to);
    if (node) node.append(h("div", "cw-no-reply", `No reply: ${why}`));
  }

  // -- the send timeline ("events") -------------------------------------------

  addEvent(event, render = true) {
    if (!event || !event.client_id) return;
    let steps = this.timelines.get(event.client_id);
    if (!steps) {
      steps = [];
      this.timelines.set(event.client_id, steps);
      while (this.timelines.size > TIMELINE_SENDS) {
        this.timelines.delete(this.timelines.keys().next().value);
      }
    }
    if (!steps.some((s) => s.kind === event.kind && s.elapsed_ms === event.elapsed_ms)) {
      steps.push(event);
    }
    if (render) this.renderTimeline();
  }

  toggleTimeline() {
    this.timeline.hidden = !this.timeline.hidden;
    this.eventsToggle.setAttribute("aria-pressed", this.timeline.hidden ? "false" : "true");
    this.renderTimeline();
  }

  renderTimeline() {
    if (this.timeline.hidden) return;
    const rows = [h("div", "cw-timeline-title", "Send timeline (ms since the send began)")];
    const textOf = new Map();
    for (const message of this.order) if (message.client_id) textOf.set(message.client_id, message.text);
    for (const [client_id, steps] of [...this.timelines].reverse()) {
      const row = h("div", "cw-timeline-row");
      row.dataset.clientId = client_id;
      row.append(h("span", "cw-timeline-text", snippet(textOf.get(client_id) || client_id, 40)));
      for (const step of steps) {
        const label = STEP_LABELS[step.kind] || step.kind;
        const chip = h("span", "cw-step", `${label} ${Number(step.elapsed_ms).toFixed(1)}`);
        chip.dataset.kind = step.kind;
        row.append(chip);
      }
      rows.push(row);
    }
    if (rows.length === 1) rows.push(h("div", "cw-timeline-empty", "No sends yet."));
    this.timeline.replaceChildren(...rows);
  }

  // -- scrolling -----------------------------------------------------------------

  nearBottom() {
    const list = this.list;
    return list.scrollHeight - list.scrollTop - list.clientHeight < NEAR_EDGE_PX;
  }

  scrollToBottom() {
    this.list.scrollTop = this.list.scrollHeight;
  }
}

function render({ model, el }) {
  const view = new ChatView(model, el);
  return () => view.destroy();
}

export default { render };
