// @ts-check
// File parts ({"type": "file", "file_id", "name", "mime", "size"}): the name,
// type and size, and a download button. The page never holds the user's
// token: on a click the view asks the kernel for a short-lived signed link
// (`file_link`) and opens it. Images among files show a thumbnail loaded
// through such a link.

import { button, h } from "./dom.js";

const THUMBNAIL_MIMES = ["image/png", "image/jpeg", "image/gif", "image/webp"];
const LINK_KEPT_MS = 60_000; // a link is reused this long (the server's last 5 minutes)
const UNITS = ["KB", "MB", "GB", "TB"];

/**
 * A size for people: 512 -> "512 B", 1536 -> "1.5 KB", 26214400 -> "25 MB".
 * @param {unknown} bytes
 * @returns {string}
 */
export function formatSize(bytes) {
  const size = Number(bytes);
  if (!Number.isFinite(size) || size < 0) return "size unknown";
  if (size < 1024) return `${Math.round(size)} B`;
  let value = size / 1024;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const shown = value < 10 ? value.toFixed(1).replace(/\.0$/, "") : String(Math.round(value));
  return `${shown} ${UNITS[unit]}`;
}

/**
 * A MIME type for people: "application/pdf" -> "PDF", "image/png" -> "PNG image".
 * @param {unknown} mime
 * @returns {string}
 */
export function describeType(mime) {
  const value = String(mime || "").toLowerCase();
  const [kind, sub = ""] = value.split(";")[0].split("/");
  if (!kind || !sub) return "file";
  const name = sub.replace(/^(x-|vnd\.)/, "").replace(/\+xml$/, "").toUpperCase();
  if (kind === "image" || kind === "audio" || kind === "video") return `${name} ${kind}`;
  if (kind === "text") return sub === "plain" ? "text" : `${name} text`;
  return name;
}

/**
 * Whether a link from the kernel may be opened: http(s) only.
 * @param {unknown} url
 * @returns {boolean}
 */
export function isOpenableLink(url) {
  try {
    const parsed = new URL(String(url));
    return parsed.protocol === "http:" || parsed.protocol === "https:";
  } catch {
    return false;
  }
}

/** Asks the kernel for signed links, one request per file at a time, kept a minute. */
export class FileLinks {
  /** @param {(content: Record<string, unknown>) => string} request sends; returns the request id */
  constructor(request) {
    this.request = request;
    /** @type {Map<string, {resolve: (url: string) => void, reject: (error: Error) => void}>} */
    this.waiting = new Map(); // request id -> its promise's ends
    /** @type {Map<string, {url: Promise<string>, until: number}>} */
    this.kept = new Map(); // file id -> link
  }

  /**
   * @param {string} fileId
   * @returns {Promise<string>}
   */
  get(fileId) {
    const kept = this.kept.get(fileId);
    if (kept && kept.until > Date.now()) return kept.url;
    const url = new Promise((resolve, reject) => {
      const requestId = this.request({ type: "file_link", file_id: fileId });
      this.waiting.set(requestId, { resolve, reject });
    });
    this.kept.set(fileId, { url: /** @type {Promise<string>} */ (url), until: Date.now() + LINK_KEPT_MS });
    url.catch(() => this.kept.delete(fileId));
    return /** @type {Promise<string>} */ (url);
  }

  /** @param {any} answer the kernel's `file_link` message */
  answer(answer) {
    const waiting = this.waiting.get(answer.request_id);
    if (!waiting) return;
    this.waiting.delete(answer.request_id);
    if (answer.url && isOpenableLink(answer.url)) waiting.resolve(String(answer.url));
    else waiting.reject(new Error(answer.error || "no link came for this file"));
  }
}

/**
 * A `file` part: name, type, size, a download button, and a thumbnail for images.
 * @param {{file_id?: unknown, name?: unknown, mime?: unknown, size?: unknown}} part
 * @param {FileLinks | null} links null where no kernel can be asked (then no download)
 * @returns {HTMLElement}
 */
export function filePart(part, links) {
  const name = String(part.name || "file");
  const fileId = typeof part.file_id === "string" ? part.file_id : "";
  const node = h("div", "cw-part cw-file");
  node.dataset.fileId = fileId;
  const about = h("div", "cw-file-about");
  about.append(h("span", "cw-file-name", name),
    h("span", "cw-file-meta", `${describeType(part.mime)} · ${formatSize(part.size)}`));
  const download = button("cw-file-download", "Download", `Download ${name}`);
  download.setAttribute("aria-label", `Download ${name}`);
  const problem = h("span", "cw-file-problem");
  problem.setAttribute("role", "status");
  download.disabled = !fileId || !links;
  download.addEventListener("click", async () => {
    if (!links) return;
    problem.textContent = "";
    download.disabled = true;
    try {
      window.open(await links.get(fileId), "_blank", "noopener,noreferrer");
    } catch (error) {
      problem.textContent = `Cannot download: ${/** @type {Error} */ (error).message}`;
    } finally {
      download.disabled = false;
    }
  });
  node.append(about, download, problem);
  if (fileId && links && THUMBNAIL_MIMES.includes(String(part.mime).toLowerCase())) {
    const thumbnail = h("img", "cw-file-thumbnail");
    thumbnail.alt = `preview of ${name}`;
    thumbnail.hidden = true;
    thumbnail.referrerPolicy = "no-referrer";
    thumbnail.addEventListener("load", () => {
      thumbnail.hidden = false;
    });
    thumbnail.addEventListener("error", () => thumbnail.remove());
    links.get(fileId).then((url) => {
      thumbnail.src = url;
    }, () => thumbnail.remove());
    node.prepend(thumbnail);
  }
  return node;
}
