// @ts-check
// Words for people: times with dates, the size limit in characters, and what
// to do when a send failed. No DOM.

// Formatters are built once: building one costs more than formatting with it.
const TIME = new Intl.DateTimeFormat([], { hour: "2-digit", minute: "2-digit" });
const FULL = new Intl.DateTimeFormat([], { dateStyle: "full", timeStyle: "medium" });
const DAY = new Intl.DateTimeFormat([], { weekday: "short", day: "numeric", month: "short" });
const DAY_YEAR = new Intl.DateTimeFormat([], { weekday: "short", day: "numeric", month: "short", year: "numeric" });
const COUNT = new Intl.NumberFormat("en-US");

/**
 * A message's time; with the day when it is not today, and the year when not this year.
 * @param {unknown} createdAt an ISO timestamp
 * @param {Date} [now]
 * @returns {{label: string, full: string}}
 */
export function formatTime(createdAt, now = new Date()) {
  const date = new Date(String(createdAt));
  if (Number.isNaN(date.getTime())) return { label: "", full: "" };
  const time = TIME.format(date);
  const full = FULL.format(date);
  if (date.toDateString() === now.toDateString()) return { label: time, full };
  const yesterday = new Date(now);
  yesterday.setDate(now.getDate() - 1);
  if (date.toDateString() === yesterday.toDateString()) return { label: `yesterday ${time}`, full };
  const day = date.getFullYear() === now.getFullYear() ? DAY : DAY_YEAR;
  return { label: `${day.format(date)}, ${time}`, full };
}

const encoder = new TextEncoder();

/**
 * How `text` stands against the protocol's limit (bytes of UTF-8), in characters:
 * `over` is how many characters must go for it to fit; `left` how many more
 * fit at most (exact for plain ASCII).
 * @param {string} text
 * @param {number} maxBytes
 * @returns {{bytes: number, over: number, left: number}}
 */
export function sizeOf(text, maxBytes) {
  const bytes = encoder.encode(text).length;
  if (bytes <= maxBytes) return { bytes, over: 0, left: maxBytes - bytes };
  let kept = 0;
  let used = 0;
  for (const char of text) {
    const size = char.length === 2 ? 4 : encoder.encode(char).length;
    if (used + size > maxBytes) break;
    used += size;
    kept += 1;
  }
  return { bytes, over: [...text].length - kept, left: 0 };
}

/**
 * A count with thousands separators: 65536 -> "65,536".
 * @param {number} value
 * @returns {string}
 */
export function count(value) {
  return COUNT.format(value);
}

/**
 * What a person in the widget can do about a failed send, from the protocol's error code.
 * Never advice only a programmer could follow.
 * @param {{code?: string, message?: string} | null | undefined} error
 * @returns {string}
 */
export function adviceFor(error) {
  const code = error?.code || "";
  const message = (error?.message || "").replace(/;?\s*call connect\(\)\.?/i, ".");
  switch (code) {
    case "rate_limited":
      return `${message} Press Retry then.`.trim();
    case "not_connected":
    case "disconnected":
    case "timeout":
    case "unavailable":
      return "The chat server could not be reached. When the status above says connected, press Retry.";
    case "unauthorized":
    case "forbidden":
      return "The chat server refused the sign-in. Ask for a new token, then run the cell again.";
    default:
      return message ? `${message} Press Retry to send it again.` : "Press Retry to send it again.";
  }
}
