// @ts-check
// Mentions: typing `@` in the input offers the chat's members (arrow keys and
// Enter or Tab pick one, Escape closes), and mentions of you are highlighted
// in messages. A mention is `@user_id`, as the server finds them.

import { button, h } from "./dom.js";

const SHOWN = 8; // members offered at once
const ID_CHAR = /^(?:[\w-]|[.:][\w-])/; // what continues an id (the server's rule)

/** @typedef {{id: string, name?: string, kind?: string}} Member */

/**
 * The `@word` being typed just before the caret, if any.
 * @param {string} text
 * @param {number} caret
 * @returns {{start: number, query: string} | null} start: where the `@` is
 */
export function mentionQuery(text, caret) {
  const match = /(^|[^\w@])@([\w.:-]*)$/.exec(text.slice(0, caret));
  if (!match) return null;
  return { start: caret - match[2].length - 1, query: match[2] };
}

/**
 * The members to offer for `query`: those whose id or name starts with it
 * first, then those containing it; never yourself; at most `limit`.
 * @param {Member[]} members
 * @param {string} query
 * @param {string} ownId
 * @param {number} [limit]
 * @returns {Member[]}
 */
export function filterMembers(members, query, ownId, limit = SHOWN) {
  const q = query.toLowerCase();
  const others = members.filter((m) => m?.id && m.id !== ownId);
  const words = (/** @type {Member} */ m) => [m.id, ...(m.name || "").split(/\s+/), m.name || ""]
    .map((word) => word.toLowerCase());
  const starts = others.filter((m) => words(m).some((word) => word.startsWith(q)));
  const contains = others.filter((m) => !starts.includes(m)
    && words(m).some((word) => word.includes(q)));
  return [...starts, ...contains].slice(0, limit);
}

/**
 * The text with the `@query` at `start..caret` replaced by `@id `.
 * @param {string} text
 * @param {number} start
 * @param {number} caret
 * @param {string} id
 * @returns {{text: string, caret: number}}
 */
export function insertMention(text, start, caret, id) {
  const inserted = `@${id} `;
  const rest = text.slice(caret).replace(/^\s/, "");
  return { text: text.slice(0, start) + inserted + rest, caret: start + inserted.length };
}

/**
 * Wraps each `@userId` in the text of `root` (not in code or links) in a
 * highlight, so mentions of you stand out.
 * @param {HTMLElement} root
 * @param {string} userId
 * @returns {number} how many were marked
 */
export function highlightMentions(root, userId) {
  if (!userId) return 0;
  const needle = `@${userId}`;
  const walker = document.createTreeWalker(root, 4 /* NodeFilter.SHOW_TEXT */);
  /** @type {Text[]} */
  const texts = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (node.nodeValue?.includes(needle) && !parent?.closest("code, pre, a, .cw-math, .cw-code-block")) {
      texts.push(/** @type {Text} */ (node));
    }
  }
  let marked = 0;
  for (const text of texts) {
    const value = text.nodeValue || "";
    const pieces = document.createDocumentFragment();
    let from = 0;
    for (let at = value.indexOf(needle); at !== -1; at = value.indexOf(needle, at + 1)) {
      const before = at === 0 ? "" : value[at - 1];
      const end = at + needle.length;
      if (/[\w@]/.test(before) || ID_CHAR.test(value.slice(end, end + 2))) continue;
      pieces.append(value.slice(from, at), h("mark", "cw-mention-me", needle));
      from = end;
      marked += 1;
    }
    if (from === 0) continue;
    pieces.append(value.slice(from));
    text.replaceWith(pieces);
  }
  return marked;
}

/** The list of members under the input while an `@word` is typed. */
export class MentionPicker {
  /**
   * @param {HTMLTextAreaElement} input
   * @param {() => Member[]} members the chat's members now
   * @param {() => string} ownId
   */
  constructor(input, members, ownId) {
    this.input = input;
    this.members = members;
    this.ownId = ownId;
    this.node = h("div", "cw-mentions");
    this.node.id = `cw-mentions-${Math.random().toString(36).slice(2, 10)}`;
    this.node.setAttribute("role", "listbox");
    this.node.setAttribute("aria-label", "Members to mention");
    this.node.hidden = true;
    /** @type {Member[]} */
    this.offered = [];
    this.active = 0;
    /** @type {{start: number, query: string} | null} */
    this.query = null;
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-controls", this.node.id);
    input.setAttribute("aria-expanded", "false");
  }

  /** The input changed (or the caret moved): offer members, or close. */
  update() {
    const caret = this.input.selectionStart ?? this.input.value.length;
    this.query = mentionQuery(this.input.value, caret);
    this.offered = this.query ? filterMembers(this.members(), this.query.query, this.ownId()) : [];
    this.active = 0;
    this.draw();
  }

  draw() {
    const open = this.offered.length > 0;
    this.node.hidden = !open;
    this.input.setAttribute("aria-expanded", open ? "true" : "false");
    this.node.replaceChildren(...this.offered.map((member, index) => {
      const name = member.name && member.name !== member.id ? `${member.name} (@${member.id})` : `@${member.id}`;
      const option = button("cw-mention-option", name, `Mention ${member.name || member.id}`);
      option.id = `${this.node.id}-${index}`;
      option.setAttribute("role", "option");
      option.setAttribute("aria-selected", index === this.active ? "true" : "false");
      option.tabIndex = -1;
      option.dataset.userId = member.id;
      option.addEventListener("mousedown", (event) => event.preventDefault()); // keep the caret
      option.addEventListener("click", () => this.choose(index));
      return option;
    }));
    if (open) this.input.setAttribute("aria-activedescendant", `${this.node.id}-${this.active}`);
    else this.input.removeAttribute("aria-activedescendant");
  }

  close() {
    this.offered = [];
    this.query = null;
    this.draw();
  }

  /** @param {number} index */
  choose(index) {
    const member = this.offered[index];
    if (!member || !this.query) return;
    const caret = this.input.selectionStart ?? this.input.value.length;
    const next = insertMention(this.input.value, this.query.start, caret, member.id);
    this.input.value = next.text;
    this.input.setSelectionRange(next.caret, next.caret);
    this.close();
    this.input.dispatchEvent(new Event("input"));
    this.input.focus();
  }

  /**
   * A key in the input while the list may be open.
   * @param {KeyboardEvent} event
   * @returns {boolean} whether the list took it (the view then does nothing else)
   */
  onKey(event) {
    if (this.node.hidden || this.offered.length === 0) return false;
    const count = this.offered.length;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      this.active = (this.active + (event.key === "ArrowDown" ? 1 : count - 1)) % count;
      this.draw();
    } else if ((event.key === "Enter" && !event.shiftKey) || event.key === "Tab") {
      this.choose(this.active);
    } else if (event.key === "Escape") {
      this.close();
    } else {
      return false;
    }
    event.preventDefault();
    return true;
  }
}
