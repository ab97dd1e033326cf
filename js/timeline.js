// @ts-check
// "How it was sent": each send's steps, in words and in milliseconds since
// the send began. Teaches what happens between Enter and ✓ stored.

import { h, snippet } from "./dom.js";

/** @type {Record<string, string>} */
export const STEP_WORDS = {
  auth_fetch_start: "asked the chat server for a one-time permission to send",
  auth_fetched: "got the permission",
  emit: "sent the message over the live connection",
  ack: "the server stored it and confirmed",
  broadcast: "it reached everyone in the chat",
  reply: "the reply arrived",
};

/**
 * @param {number} ms
 * @returns {string}
 */
function elapsed(ms) {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`;
}

/**
 * The panel's rows, newest send first.
 * @param {Map<string, import("./state.js").SendEvent[]>} timelines
 * @param {(clientId: string) => string | null} textOf
 * @returns {HTMLElement[]}
 */
export function timelineRows(timelines, textOf) {
  const rows = [h("div", "cw-timeline-title", "How each message was sent (time since you pressed Enter)")];
  for (const [clientId, steps] of [...timelines].reverse()) {
    const row = h("div", "cw-timeline-row");
    row.dataset.clientId = clientId;
    const text = textOf(clientId);
    row.append(h("div", "cw-timeline-text", text ? `“${snippet(text, 60)}”` : "a message sent earlier"));
    const list = h("ol", "cw-steps");
    for (const step of [...steps].sort((a, b) => a.elapsed_ms - b.elapsed_ms)) {
      const item = h("li", "cw-step");
      item.dataset.kind = step.kind;
      item.append(
        h("span", "cw-step-time", `+${elapsed(Number(step.elapsed_ms))}`),
        ` ${STEP_WORDS[step.kind] || step.kind}`,
      );
      list.append(item);
    }
    row.append(list);
    rows.push(row);
  }
  if (rows.length === 1) rows.push(h("div", "cw-timeline-empty", "No messages sent yet."));
  return rows;
}
