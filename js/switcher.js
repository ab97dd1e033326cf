// @ts-check
// The chat switcher: the user's chats, each with its unread and mention
// counts (live, from the kernel's `chats` trait). Choosing one sets the
// widget's `chat_id`, which joins that chat.

import { button, disclosure, h } from "./dom.js";

/**
 * @typedef {{id: string, title?: string, unread?: number, unread_mentions?: number,
 *   last_seq?: number, last_read_seq?: number}} ChatEntry
 */

/**
 * The counts for the toggle's badge: unread messages and mentions in the
 * chats other than the one shown.
 * @param {ChatEntry[]} chats
 * @param {string} currentId
 * @returns {{unread: number, mentions: number}}
 */
export function otherChatsUnread(chats, currentId) {
  let unread = 0;
  let mentions = 0;
  for (const chat of chats) {
    if (chat.id === currentId) continue;
    unread += Number(chat.unread) || 0;
    mentions += Number(chat.unread_mentions) || 0;
  }
  return { unread, mentions };
}

/**
 * A chat's label for screen readers: "numbers, 3 unread, 1 mention".
 * @param {ChatEntry} chat
 * @returns {string}
 */
export function chatLabel(chat) {
  const words = [chat.title || chat.id];
  const unread = Number(chat.unread) || 0;
  const mentions = Number(chat.unread_mentions) || 0;
  if (unread) words.push(`${unread} unread`);
  if (mentions) words.push(`${mentions} ${mentions === 1 ? "mention" : "mentions"}`);
  return words.join(", ");
}

/**
 * @param {string} className
 * @param {number} value
 * @param {string} [prefix]
 * @returns {HTMLElement}
 */
function badge(className, value, prefix = "") {
  const node = h("span", `cw-badge ${className}`, `${prefix}${value}`);
  node.hidden = !value;
  node.setAttribute("aria-hidden", "true"); // the button's label says it in words
  return node;
}

export class ChatSwitcher {
  /** @param {(chatId: string) => void} choose */
  constructor(choose) {
    this.choose = choose;
    this.toggle = button("cw-switcher-toggle", "Chats", "Switch to another chat");
    this.toggleUnread = badge("cw-badge-unread", 0);
    this.toggleMentions = badge("cw-badge-mentions", 0, "@");
    this.toggle.append(this.toggleUnread, this.toggleMentions);
    this.panel = h("div", "cw-switcher");
    this.panel.setAttribute("role", "group");
    this.panel.setAttribute("aria-label", "Your chats");
    this.setOpen = disclosure(this.toggle, this.panel, "cw-switcher");
  }

  /**
   * @param {ChatEntry[]} chats
   * @param {string} currentId
   */
  draw(chats, currentId) {
    const list = Array.isArray(chats) ? chats : [];
    const others = otherChatsUnread(list, currentId);
    this.toggleUnread.textContent = String(others.unread);
    this.toggleUnread.hidden = !others.unread;
    this.toggleMentions.textContent = `@${others.mentions}`;
    this.toggleMentions.hidden = !others.mentions;
    this.toggle.setAttribute("aria-label", others.unread
      ? `Chats: ${others.unread} unread elsewhere${others.mentions ? `, ${others.mentions} mentioning you` : ""}`
      : "Chats");
    this.panel.replaceChildren(...list.map((chat) => {
      const item = button("cw-chat", "");
      item.dataset.chatId = chat.id;
      item.append(h("span", "cw-chat-title", chat.title || chat.id),
        badge("cw-badge-unread", Number(chat.unread) || 0),
        badge("cw-badge-mentions", Number(chat.unread_mentions) || 0, "@"));
      item.setAttribute("aria-label", chatLabel(chat));
      if (chat.id === currentId) item.setAttribute("aria-current", "true");
      item.addEventListener("click", () => {
        this.setOpen(false);
        if (chat.id !== currentId) this.choose(chat.id);
      });
      return item;
    }));
  }
}
