// @ts-check
// Uploading files dropped or pasted into the input, or chosen with the
// paperclip: the bytes go to the kernel in chunks as comm buffers (at most
// IN_FLIGHT chunks unacknowledged, so a large file never floods the comm);
// the progress bar follows the chunks the kernel acknowledged. The kernel
// uploads the whole file (client.upload) and sends a message with its part.

import { button, h } from "./dom.js";
import { formatSize } from "./files.js";

export const CHUNK_BYTES = 256 * 1024;
const IN_FLIGHT = 4; // chunks sent and not yet acknowledged, at most

/**
 * @typedef {{id: string, file: Blob, name: string, size: number, sent: number,
 *   received: number, state: "uploading" | "sending" | "failed", error: string,
 *   row: HTMLElement, bar: HTMLProgressElement, label: HTMLElement, reading: boolean}} Upload
 * @typedef {(content: Record<string, unknown>, buffers?: ArrayBuffer[]) => void} Send
 */

/**
 * Why a file cannot be uploaded ("" when it can).
 * @param {{name: string, size: number}} file
 * @param {number} maxBytes
 * @returns {string}
 */
export function uploadRefusal(file, maxBytes) {
  const control = [...file.name].some((char) => (char.codePointAt(0) || 0) < 32 || char === "\u007f");
  if (!file.name || control || /[/\\]/.test(file.name) || file.name.length > 255) {
    return "The file's name cannot be used (1 to 255 characters, no / or \\).";
  }
  if (maxBytes > 0 && file.size > maxBytes) {
    return `${file.name} is ${formatSize(file.size)}; files can be at most ${formatSize(maxBytes)}.`;
  }
  return "";
}

let uploads = 0;

export class Uploader {
  /**
   * @param {Send} send a message to the kernel, with buffers
   * @param {(content: Record<string, unknown>) => string} request a request with an id (busy kernel noticed)
   * @param {() => number} maxBytes the largest file the server takes
   */
  constructor(send, request, maxBytes) {
    this.send = send;
    this.request = request;
    this.maxBytes = maxBytes;
    /** @type {Map<string, Upload>} */
    this.uploads = new Map();
    this.node = h("div", "cw-uploads");
    this.node.setAttribute("aria-live", "polite");
  }

  /**
   * Starts uploading each file.
   * @param {Iterable<File>} files
   */
  add(files) {
    for (const file of files) this.start(file, file.name, file.type || "application/octet-stream");
  }

  /**
   * @param {Blob} file
   * @param {string} name
   * @param {string} mime
   */
  start(file, name, mime) {
    uploads += 1;
    const id = `up-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}-${uploads}`;
    const row = h("div", "cw-upload");
    row.dataset.uploadId = id;
    const bar = h("progress", "cw-upload-bar");
    bar.max = Math.max(file.size, 1);
    bar.value = 0;
    bar.setAttribute("aria-label", `Uploading ${name}`);
    const label = h("span", "cw-upload-label");
    const dismiss = button("cw-upload-dismiss", "Dismiss", `Dismiss ${name}`);
    dismiss.hidden = true;
    dismiss.addEventListener("click", () => this.remove(id));
    row.append(h("span", "cw-upload-name", name), bar, label, dismiss);
    this.node.append(row);
    /** @type {Upload} */
    const upload = { id, file, name, size: file.size, sent: 0, received: 0, state: "uploading", error: "",
      row, bar, label, reading: false };
    this.uploads.set(id, upload);
    const refusal = uploadRefusal({ name, size: file.size }, this.maxBytes());
    if (refusal) {
      this.fail(upload, refusal);
      return;
    }
    this.draw(upload);
    this.request({ type: "upload", upload_id: id, name, mime, size: file.size });
  }

  /** @param {string} id */
  remove(id) {
    this.uploads.get(id)?.row.remove();
    this.uploads.delete(id);
  }

  /**
   * @param {Upload} upload
   * @param {string} why
   */
  fail(upload, why) {
    upload.state = "failed";
    upload.error = why;
    /** @type {HTMLElement} */ (upload.row.querySelector(".cw-upload-dismiss")).hidden = false;
    this.draw(upload);
  }

  /** @param {Upload} upload */
  draw(upload) {
    upload.row.dataset.state = upload.state;
    upload.bar.value = upload.received;
    upload.label.textContent = upload.state === "failed"
      ? upload.error
      : upload.state === "sending"
        ? "uploaded; sending…"
        : `${formatSize(upload.received)} of ${formatSize(upload.size)}`;
  }

  /**
   * A message from the kernel about an upload.
   * @param {any} content
   * @returns {boolean} whether it was about one of this view's uploads
   */
  receive(content) {
    const upload = this.uploads.get(content.upload_id);
    if (!upload) return false;
    if (content.type === "upload_progress") {
      upload.received = Math.max(upload.received, Number(content.received) || 0);
      if (upload.received >= upload.size) upload.state = "sending";
      this.draw(upload);
      this.pump(upload);
    } else if (content.type === "upload_done") {
      this.remove(upload.id);
    } else if (content.type === "upload_failed") {
      this.fail(upload, content.error?.message || "The upload failed.");
    }
    return true;
  }

  /**
   * Sends the next chunks, in order, while fewer than IN_FLIGHT are unacknowledged.
   * @param {Upload} upload
   */
  async pump(upload) {
    if (upload.reading) return;
    upload.reading = true;
    try {
      while (upload.state === "uploading" && upload.sent < upload.size
        && upload.sent - upload.received < IN_FLIGHT * CHUNK_BYTES) {
        const offset = upload.sent;
        const end = Math.min(upload.size, offset + CHUNK_BYTES);
        const bytes = await upload.file.slice(offset, end).arrayBuffer();
        if (!this.uploads.has(upload.id)) return;
        upload.sent = end;
        this.send({ type: "upload_chunk", upload_id: upload.id, offset }, [bytes]);
      }
    } catch (error) {
      this.fail(upload, `The file could not be read: ${/** @type {Error} */ (error).message}`);
    } finally {
      upload.reading = false;
    }
  }
}

/**
 * The files of a drop or paste (none when it carries only text).
 * @param {DataTransfer | null} transfer
 * @returns {File[]}
 */
export function filesOf(transfer) {
  return transfer ? [...transfer.files] : [];
}
