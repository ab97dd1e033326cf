// @ts-check
// The link policy: only absolute http(s) and mailto targets become links, and
// they open in a new tab without a referrer. Everything else shows as typed.

import { h } from "./dom.js";

/** Link targets: http(s) and mailto. */
export const LINK_PROTOCOLS = new Set(["http:", "https:", "mailto:"]);
const MAX_URL = 2048;
// Control, zero-width and direction characters: a target holding one could
// look like another, so it is refused.
const INVISIBLE =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: these are what it refuses
  /[\u0000-\u0020\u007f-\u009f\u00ad\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/;

/**
 * The URL to open, or null when `raw` is not an absolute http(s)/mailto URL.
 * Percent-encoded invisible characters count as invisible.
 * @param {unknown} raw
 * @param {Set<string>} [protocols]
 * @returns {string | null}
 */
export function safeHref(raw, protocols = LINK_PROTOCOLS) {
  const value = String(raw).trim();
  if (!value || value.length > MAX_URL || INVISIBLE.test(value)) return null;
  let decoded = value;
  try {
    decoded = decodeURIComponent(value);
  } catch {
    // not valid percent-encoding: the URL parser decides below
  }
  if (INVISIBLE.test(decoded.replace(/ /g, "x"))) return null;
  let url;
  try {
    url = new URL(value);
  } catch {
    return null;
  }
  if (!protocols.has(url.protocol)) return null;
  // As written when it already says its scheme plainly (markdown-it has
  // percent-encoded it), else as the URL parser reads it.
  return /^(https?:\/\/|mailto:)/i.test(value) ? value : url.href;
}

/** Image targets: only http(s) (a mailto: "image" makes no sense). */
export const IMAGE_PROTOCOLS = new Set(["http:", "https:"]);

/**
 * An <a> to an already-allowed `href`, opened in a new tab with no referrer;
 * the real target is its tooltip.
 * @param {string} href
 * @param {string} [title]
 * @returns {HTMLAnchorElement}
 */
export function linkNode(href, title) {
  const link = h("a", "cw-link");
  link.href = href;
  link.target = "_blank";
  link.rel = "noopener noreferrer";
  link.setAttribute("referrerpolicy", "no-referrer");
  link.title = title ? `${title} (${href})` : href;
  return link;
}
