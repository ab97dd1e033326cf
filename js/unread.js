// @ts-check
// What is new to this user: where the "N new" divider goes when a chat
// opens, and which messages were read. A message counts as read once it was
// scrolled into view while the page was visible (IntersectionObserver and
// document.visibilityState), never merely because it arrived; the kernel is
// told the highest such seq (it calls `mark_read`).

import { h } from "./dom.js";

const READ_AFTER_MS = 250; // seen messages are reported together, at most this often
const SEEN_RATIO = 0.5; // this much of a message in view counts as seen

/**
 * @typedef {{id: string, seq: number, sender?: {id?: string, kind?: string}, deleted?: boolean}} Seen
 */

/**
 * Whether a message counts as unread for `userId` when after the read marker:
 * sent by someone else (bots included) and not deleted, as the protocol counts.
 * @param {Seen} message
 * @param {string} userId
 * @returns {boolean}
 */
export function countsAsUnread(message, userId) {
  const sender = message.sender || {};
  const own = sender.kind !== "bot" && sender.id === userId;
  return !own && !message.deleted;
}

/**
 * Where the divider goes in the messages shown (seq order): before the first
 * unread one after `lastReadSeq`. `unreadTotal`, the chat's own count, wins
 * when more are unread than the page holds.
 * @param {Seen[]} order
 * @param {number} lastReadSeq
 * @param {string} userId
 * @param {number} [unreadTotal]
 * @returns {{beforeId: string, seq: number, count: number} | null}
 */
export function dividerPlacement(order, lastReadSeq, userId, unreadTotal = 0) {
  const unread = order.filter((m) => m.seq > lastReadSeq && countsAsUnread(m, userId));
  if (unread.length === 0) return null;
  return { beforeId: unread[0].id, seq: unread[0].seq, count: Math.max(unread.length, unreadTotal) };
}

/**
 * The divider's words.
 * @param {number} count
 * @returns {string}
 */
export function dividerText(count) {
  return `${count} new`;
}

/**
 * @param {number} count
 * @returns {HTMLElement}
 */
export function dividerNode(count) {
  const node = h("div", "cw-divider");
  node.setAttribute("role", "separator");
  node.append(h("span", "cw-divider-label", dividerText(count)));
  return node;
}

/**
 * Watches the unread messages drawn and reports the highest seq seen. One per view.
 */
export class ReadTracker {
  /**
   * @param {(chatId: string, seq: number) => void} onRead tells the kernel
   */
  constructor(onRead) {
    this.onRead = onRead;
    this.chatId = "";
    this.readSeq = 0;
    /** @type {Map<Element, number>} unread nodes watched -> their seq */
    this.watched = new Map();
    /** @type {Set<Element>} watched nodes in view now */
    this.inView = new Set();
    /** @type {ReturnType<typeof setTimeout> | null} */
    this.timer = null;
    this.reported = 0;
    this.observer = new IntersectionObserver((entries) => {
      for (const entry of entries) {
        const half = (entry.rootBounds?.height || window.innerHeight) * SEEN_RATIO;
        const seen = entry.isIntersecting
          && (entry.intersectionRatio >= SEEN_RATIO || entry.intersectionRect.height >= half);
        if (seen) this.inView.add(entry.target);
        else this.inView.delete(entry.target);
      }
      this.check();
    }, { threshold: [0, SEEN_RATIO, 1] });
    this.onVisibility = () => this.check();
    document.addEventListener("visibilitychange", this.onVisibility);
  }

  /**
   * A chat was opened: its read marker, and nothing watched from before
   * (what the old chat had seen is reported first).
   * @param {string} chatId
   * @param {number} readSeq
   */
  reset(chatId, readSeq) {
    this.report();
    this.chatId = chatId;
    for (const node of this.watched.keys()) this.observer.unobserve(node);
    this.watched.clear();
    this.inView.clear();
    this.readSeq = readSeq;
    this.reported = readSeq;
  }

  /**
   * The read marker moved elsewhere (another view, another device).
   * @param {number} readSeq
   */
  markedElsewhere(readSeq) {
    if (readSeq <= this.readSeq) return;
    this.readSeq = readSeq;
    this.reported = Math.max(this.reported, readSeq);
    this.forgetUpTo(readSeq);
  }

  /**
   * A message drawn: watched while it is unread.
   * @param {Element} node
   * @param {Seen} message
   * @param {string} userId
   */
  watch(node, message, userId) {
    if (message.seq <= this.readSeq) return;
    this.watched.set(node, message.seq);
    this.observer.observe(node);
    if (countsAsUnread(message, userId)) node.classList.add("cw-unread");
  }

  check() {
    if (document.visibilityState !== "visible" || this.inView.size === 0) return;
    let highest = this.readSeq;
    for (const node of this.inView) highest = Math.max(highest, this.watched.get(node) || 0);
    if (highest <= this.readSeq) return;
    this.readSeq = highest;
    this.forgetUpTo(highest);
    if (this.timer === null) this.timer = setTimeout(() => this.report(), READ_AFTER_MS);
  }

  /** Tells the kernel the highest seq seen, once. */
  report() {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (this.chatId && this.readSeq > this.reported) {
      this.reported = this.readSeq;
      this.onRead(this.chatId, this.readSeq);
    }
  }

  /** @param {number} seq */
  forgetUpTo(seq) {
    for (const [node, watchedSeq] of this.watched) {
      if (watchedSeq > seq) continue;
      this.observer.unobserve(node);
      this.watched.delete(node);
      this.inView.delete(node);
      node.classList.remove("cw-unread");
    }
  }

  destroy() {
    if (this.timer !== null) clearTimeout(this.timer);
    this.observer.disconnect();
    document.removeEventListener("visibilitychange", this.onVisibility);
  }
}
