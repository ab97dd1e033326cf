// @ts-check
// Searching the user's chats: the kernel calls client.search and answers the
// matches, best first; choosing one jumps to that message (switching chat
// and loading older pages until it is shown).

import { button, disclosure, h, snippet } from "./dom.js";
import { formatTime } from "./format.js";

/**
 * @typedef {{id: string, chat_id: string, seq: number, text?: string,
 *   sender?: {name?: string, id?: string}, created_at?: string, parts?: any[]}} Found
 */

/**
 * One result's words: who, where (when not the chat shown), and the text.
 * @param {Found} message
 * @param {string} currentChat
 * @returns {string}
 */
export function resultLabel(message, currentChat) {
  const who = message.sender?.name || message.sender?.id || "?";
  const where = message.chat_id === currentChat ? "" : ` in ${message.chat_id}`;
  const parts = Array.isArray(message.parts) ? message.parts : [];
  const text = message.text || parts.map((part) => part?.name || part?.text || `[${part?.type}]`).join(" ");
  return `${who}${where}: ${snippet(text, 120)}`;
}

export class SearchPanel {
  /**
   * @param {(q: string) => void} search asks the kernel
   * @param {(message: Found) => void} jump shows that message
   */
  constructor(search, jump) {
    this.jump = jump;
    this.toggle = button("cw-search-toggle", "Search", "Search messages");
    this.panel = h("div", "cw-search");
    this.panel.setAttribute("role", "search");
    const form = h("form", "cw-search-form");
    this.input = h("input", "cw-search-input");
    this.input.type = "search";
    this.input.placeholder = "Words to find";
    this.input.setAttribute("aria-label", "Search messages");
    const go = button("cw-search-go", "Find", "Find messages with these words");
    go.type = "submit";
    form.append(this.input, go);
    this.status = h("div", "cw-search-status");
    this.status.setAttribute("role", "status");
    this.results = h("div", "cw-search-results");
    this.results.setAttribute("role", "group");
    this.results.setAttribute("aria-label", "Messages found");
    this.panel.append(form, this.status, this.results);
    /** @type {string} the chat shown, for the results' words */
    this.currentChat = "";
    this.setOpen = disclosure(this.toggle, this.panel, "cw-search", {
      onOpen: () => this.input.focus(),
      keepKeys: true, // typed words are not notebook shortcuts
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const q = this.input.value.trim();
      if (!q) return;
      this.status.textContent = "Searching…";
      this.results.replaceChildren();
      search(q);
    });
  }

  /** @param {any} answer the kernel's `search_results` */
  show(answer) {
    if (answer.error) {
      this.status.textContent = `Search failed: ${answer.error}`;
      return;
    }
    const messages = /** @type {Found[]} */ (Array.isArray(answer.messages) ? answer.messages : []);
    this.status.textContent = messages.length
      ? `${messages.length} ${messages.length === 1 ? "message" : "messages"} found for “${answer.q}”`
      : `Nothing found for “${answer.q}”.`;
    this.results.replaceChildren(...messages.map((message) => {
      const label = resultLabel(message, this.currentChat);
      const item = button("cw-search-result", "", `Show this message (${formatTime(message.created_at).full})`);
      item.dataset.chatId = message.chat_id;
      item.dataset.seq = String(message.seq);
      item.append(h("span", "cw-search-text", label));
      item.addEventListener("click", () => this.jump(message));
      return item;
    }));
  }
}
