// @ts-check
// The view's elements, built once: header, notices, the message list, the
// "how it was sent" panel and the composer. The view attaches the events.

import { button, h } from "./dom.js";

/** What the view says once its kernel is gone, by how it went. */
export const KERNEL_GONE = {
  restarted: "The notebook's kernel restarted: run the cell again to chat.",
  stopped: "The notebook's kernel stopped: start it and run the cell again to chat.",
};

/** The elements of one view. */
export function buildLayout() {
  const root = h("div", "cw-root");
  root.dataset.lmSuppressShortcuts = "true"; // typing here is not a notebook shortcut
  const header = h("div", "cw-header");
  const title = h("span", "cw-title");
  const statusBadge = h("span", "cw-status");
  statusBadge.setAttribute("role", "status");
  const howToggle = button("cw-how-sent-toggle", "How it was sent",
    "Show, step by step, how each message travelled to the server and back");
  howToggle.setAttribute("aria-pressed", "false");
  header.append(title, statusBadge, howToggle);

  const errorNotice = h("div", "cw-notice cw-error");
  errorNotice.setAttribute("role", "alert");
  const busyNotice = h("div", "cw-notice cw-busy",
    "The kernel is busy (a cell is running): the chat will catch up when it is free.");
  busyNotice.hidden = true;
  const goneNotice = h("div", "cw-notice cw-kernel-gone");
  goneNotice.setAttribute("role", "alert");
  goneNotice.hidden = true;

  const frame = h("div", "cw-list-frame");
  const list = h("div", "cw-list");
  list.tabIndex = 0;
  list.setAttribute("aria-label", "Messages");
  const olderButton = button("cw-older", "Load older messages");
  const empty = h("div", "cw-empty");
  const items = h("div", "cw-items"); // stored messages, and own ones in the order sent
  const live = h("div", "cw-live"); // replies being written
  list.append(olderButton, empty, items, live);
  const newBelow = button("cw-new-below", "", "Scroll down to the newest message");
  newBelow.hidden = true;
  frame.append(list, newBelow);

  const timeline = h("div", "cw-timeline");
  timeline.hidden = true;
  const waiting = h("div", "cw-waiting", "Waiting for a reply…");
  waiting.setAttribute("aria-live", "polite");

  const composer = h("div", "cw-composer");
  const input = h("textarea", "cw-input");
  input.rows = 2;
  input.placeholder = "Write a message (Enter sends, Shift+Enter for a new line)";
  input.setAttribute("aria-label", "Message");
  const sendButton = button("cw-send", "Send");
  composer.append(input, sendButton);
  const size = h("div", "cw-size");
  size.hidden = true;
  size.setAttribute("aria-live", "polite");
  const hint = h("div", "cw-hint");
  hint.setAttribute("role", "status");

  root.append(header, errorNotice, busyNotice, goneNotice, frame, timeline, waiting, composer,
    size, hint);
  return {
    root, header, frame, composer, title, statusBadge, howToggle, errorNotice, busyNotice, goneNotice, list, olderButton,
    empty, items, live, newBelow, timeline, waiting, input, sendButton, size, hint,
  };
}
