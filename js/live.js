// @ts-check
// The protocol 1.1 features of a view, composed: who is here and who is
// typing, the unread divider and read marking, the chat switcher, mentions,
// files (download, upload) and search. The view calls these hooks; each
// feature's own module does the work.

import { button, h } from "./dom.js";
import { FileLinks } from "./files.js";
import { highlightMentions, MentionPicker } from "./mentions.js";
import { PresenceBar, typingText } from "./presence.js";
import { SearchPanel } from "./search.js";
import { ChatSwitcher } from "./switcher.js";
import { TypingSender } from "./typing.js";
import { dividerNode, dividerPlacement, ReadTracker } from "./unread.js";
import { filesOf, Uploader } from "./upload.js";

/** The traits these features draw from. */
export const LIVE_TRAITS = ["present", "typing_users", "chat_list", "member_list", "last_read_seq",
  "max_file_bytes"];
const FOUND_SHOWN_MS = 2500; // how long a message jumped to stays marked

/** @typedef {import("./view.js").ChatView} ChatView */

export class LiveFeatures {
  /** @param {ChatView} view */
  constructor(view) {
    this.view = view;
    const model = view.model;
    const ui = view.ui;
    this.presence = new PresenceBar();
    this.switcher = new ChatSwitcher((chatId) => {
      model.set("chat_id", chatId);
      model.save_changes();
    });
    this.search = new SearchPanel((q) => view.request({ type: "search", q }), (found) => this.jumpTo(found));
    this.links = new FileLinks((content) => view.request(content));
    /** @type {string | null} the chat the user is typing in (a switch ends it there) */
    this.typingChat = null;
    this.typingSender = new TypingSender((typing) => model.send({ type: "typing", typing, chat_id: this.typingChat }));
    this.reads = new ReadTracker((chatId, seq) => model.send({ type: "read", chat_id: chatId, seq }));
    this.picker = new MentionPicker(ui.input, () => model.get("member_list") || [], () => model.get("user_id") || "");
    this.uploader = new Uploader((content, buffers) => model.send(content, undefined, buffers),
      (content) => view.request(content), () => Number(model.get("max_file_bytes")) || 0);
    this.typingLine = h("div", "cw-typing");
    this.typingLine.setAttribute("aria-live", "polite");
    /** @type {{chat_id: string, seq: number, id: string} | null} a search result being brought into view */
    this.jump = null;
    /** @type {HTMLElement | null} */
    this.divider = null;
    this.build();
  }

  build() {
    const ui = this.view.ui;
    ui.title.after(this.presence.node);
    ui.howToggle.before(this.switcher.toggle, this.search.toggle);
    ui.header.after(this.switcher.panel, this.search.panel);
    ui.frame.after(this.typingLine);
    const chooser = h("input", "cw-file-input");
    chooser.type = "file";
    chooser.multiple = true;
    chooser.hidden = true;
    chooser.setAttribute("aria-label", "Files to send");
    const attach = button("cw-attach", "Attach", "Attach files (or drop or paste them into the box)");
    attach.setAttribute("aria-label", "Attach files");
    attach.addEventListener("click", () => chooser.click());
    chooser.addEventListener("change", () => {
      this.uploader.add(chooser.files || []);
      chooser.value = "";
    });
    ui.input.before(attach, chooser);
    ui.composer.before(this.picker.node);
    ui.composer.after(this.uploader.node);
    ui.root.addEventListener("dragover", (event) => {
      if (!event.dataTransfer?.types.includes("Files")) return;
      event.preventDefault();
      ui.root.dataset.dropping = "true";
    });
    ui.root.addEventListener("dragleave", () => {
      delete ui.root.dataset.dropping;
    });
    ui.root.addEventListener("drop", (event) => {
      delete ui.root.dataset.dropping;
      const files = filesOf(event.dataTransfer);
      if (files.length === 0) return;
      event.preventDefault();
      this.uploader.add(files);
    });
    ui.input.addEventListener("paste", (event) => {
      const files = filesOf(event.clipboardData);
      if (files.length === 0) return; // text pastes as usual
      event.preventDefault();
      this.uploader.add(files);
    });
    ui.input.addEventListener("click", () => this.picker.update());
    ui.input.addEventListener("blur", () => this.picker.close());
  }

  /** A trait changed: draw what depends on them. */
  refresh() {
    const model = this.view.model;
    const userId = model.get("user_id") || "";
    const chatId = model.get("chat_id") || "";
    this.presence.draw(model.get("present") || [], userId);
    this.typingLine.textContent = typingText(model.get("typing_users") || []);
    this.switcher.draw(model.get("chat_list") || [], chatId);
    this.search.currentChat = chatId;
    if (chatId === this.reads.chatId) this.reads.markedElsewhere(Number(model.get("last_read_seq")) || 0);
  }

  // -- hooks the view calls ---------------------------------------------------

  /**
   * A message from the kernel for these features.
   * @param {any} content
   * @returns {boolean} whether it was one
   */
  receive(content) {
    switch (content.type) {
      case "file_link":
        if (this.view.finalAnswer(content.request_id)) this.links.answer(content);
        return true;
      case "upload_progress":
      case "upload_done":
      case "upload_failed":
        if (content.request_id) this.view.finalAnswer(content.request_id);
        this.uploader.receive(content);
        return true;
      case "search_results":
        if (this.view.finalAnswer(content.request_id)) this.search.show(content);
        return true;
      default:
        return false;
    }
  }

  /**
   * A message node was built: mentions of you marked, unread ones watched.
   * @param {HTMLElement} node
   * @param {any} message
   */
  decorate(node, message) {
    const userId = this.view.model.get("user_id") || "";
    if (Array.isArray(message.mentions) && message.mentions.includes(userId)) {
      node.classList.add("cw-mentions-me");
      highlightMentions(node, userId);
    }
    this.reads.watch(node, message, userId);
  }

  /**
   * A snapshot was drawn: on a new chat, the read marker starts over and the
   * divider goes before the first unread message (scrolled to when the unread
   * ones do not all fit).
   * @param {boolean} switched
   * @param {any} snapshot its `last_read_seq` is the marker when the chat opened
   */
  snapshotApplied(switched, snapshot) {
    const view = this.view;
    const model = view.model;
    if (switched) {
      this.typingSender.stop(); // said in the chat typed in
      const lastRead = Number(snapshot.last_read_seq ?? model.get("last_read_seq")) || 0;
      const chat = (model.get("chat_list") || []).find((/** @type {any} */ c) => c.id === view.state.chatId);
      this.divider?.remove();
      this.divider = null;
      this.reads.reset(String(view.state.chatId), lastRead);
      for (const message of view.state.order) {
        const node = view.nodes.get(message.id);
        if (node) this.reads.watch(node, message, model.get("user_id") || "");
      }
      const placement = dividerPlacement(view.state.order, lastRead, model.get("user_id") || "",
        Number(chat?.unread) || 0);
      const first = placement && view.nodes.get(placement.beforeId);
      if (placement && first) {
        this.divider = dividerNode(placement.count);
        first.before(this.divider);
        const list = view.ui.list;
        const top = this.divider.offsetTop - list.offsetTop;
        if (top < list.scrollTop) {
          list.scrollTop = top;
          view.stick = false;
          view.unseen = placement.count;
          view.ui.newBelow.hidden = false;
          view.ui.newBelow.textContent = `↓ ${placement.count} new ${placement.count === 1 ? "message" : "messages"}`;
        }
      }
    }
    this.continueJump();
  }

  /** An older page was drawn. */
  olderApplied() {
    this.continueJump();
  }

  /**
   * A key in the input: the mention list first.
   * @param {KeyboardEvent} event
   * @returns {boolean} whether it was taken
   */
  onKey(event) {
    return this.picker.onKey(event);
  }

  /** The input's text changed. */
  inputChanged() {
    if (!this.typingSender.typing) this.typingChat = this.view.state.chatId;
    this.typingSender.changed(this.view.ui.input.value);
    this.picker.update();
  }

  /**
   * The text goes out now.
   * @returns {string | null} the chat whose typing the send request ends (so the
   *   kernel hears one message, not a send and then `typing: false`)
   */
  sent() {
    this.picker.close();
    return this.typingSender.stopQuietly() ? this.typingChat : null;
  }

  destroy() {
    this.reads.destroy();
  }

  // -- jumping to a message ------------------------------------------------------

  /** @param {{chat_id: string, seq: number, id: string}} found */
  jumpTo(found) {
    this.jump = { chat_id: found.chat_id, seq: found.seq, id: found.id };
    if (found.chat_id !== this.view.state.chatId) {
      this.view.model.set("chat_id", found.chat_id); // its snapshot continues the jump
      this.view.model.save_changes();
      return;
    }
    this.continueJump();
  }

  continueJump() {
    const view = this.view;
    const jump = this.jump;
    if (!jump || jump.chat_id !== view.state.chatId) return;
    const node = view.nodes.get(jump.id);
    if (node) {
      this.jump = null;
      view.stick = false;
      node.scrollIntoView({ block: "center" });
      node.dataset.found = "true";
      node.tabIndex = -1;
      node.focus({ preventScroll: true });
      setTimeout(() => delete node.dataset.found, FOUND_SHOWN_MS);
      return;
    }
    const oldest = view.state.oldestSeq();
    if (!view.state.hasMore || oldest === null || oldest <= jump.seq) {
      this.jump = null;
      this.search.status.textContent = "That message is not in this chat any more.";
      return;
    }
    view.loadOlder();
  }
}
