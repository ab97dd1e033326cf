// @ts-check
// What one view knows, without any DOM: the chat's stored messages in seq
// order (each as it stands now: edited, deleted, reacted to), the names of
// the people seen, own messages not stored yet (the outbox), replies being written,
// replies that never came, and each send's timeline. The view asks it what
// changed and draws that; node tests drive it directly.

/**
 * @typedef {{kind?: string, id?: string, name?: string}} Sender
 * @typedef {{id: string, chat_id: string, seq: number, sender?: Sender, text?: string,
 *   parts?: unknown[], client_id?: string | null, reply_to?: string | null,
 *   created_at?: string, version?: number, edited_at?: string | null, deleted?: boolean,
 *   reactions?: {emoji: string, users: string[]}[]}} Message
 * @typedef {{code?: string, message?: string}} ErrorInfo
 * @typedef {"sending" | "queued" | "failed"} LocalState
 * @typedef {{local_id: string, text: string, state: LocalState, error: ErrorInfo | null}} LocalItem
 * @typedef {{id: string, reply_to: string | null, pieces: string[], count: number}} Stream
 * @typedef {{kind: string, client_id: string, t?: number, elapsed_ms: number}} SendEvent
 * @typedef {{id: string, chat_id: string, index: number, delta: string, reply_to?: string | null}} Delta
 */

export const TIMELINE_SENDS = 30; // sends whose steps are kept
const MAX_PIECES = 1_000_000;

export class ChatState {
  constructor() {
    /** @type {string | null} */
    this.chatId = null;
    /** @type {Map<string, Message>} */
    this.messages = new Map();
    /** @type {Message[]} stored messages by seq */
    this.order = [];
    /** @type {Map<string, string>} user id -> name, from the senders seen */
    this.names = new Map();
    /** @type {Map<string, LocalItem>} */
    this.local = new Map();
    /** @type {Map<string, Stream>} */
    this.streams = new Map();
    /** @type {Map<string, string>} message id -> why no reply came */
    this.noReply = new Map();
    /** @type {Map<string, SendEvent[]>} client_id -> steps, oldest send first */
    this.timelines = new Map();
    this.hasMore = false;
  }

  /**
   * Switches to `chatId` (when it is another chat, everything of the old one goes).
   * @param {string} chatId
   * @returns {boolean} whether it was another chat
   */
  switchTo(chatId) {
    if (chatId === this.chatId) return false;
    this.chatId = chatId;
    this.messages.clear();
    this.order = [];
    this.local.clear();
    this.streams.clear();
    return true;
  }

  /**
   * Stores a message of this chat in seq order.
   * @param {Message} message
   * @returns {{index: number, next: Message | null} | null} where it went; null when
   *   it is another chat's or already here
   */
  addMessage(message) {
    if (!message || message.chat_id !== this.chatId || this.messages.has(message.id)) return null;
    this.messages.set(message.id, message);
    this.learnName(message.sender);
    let index = this.order.length; // new messages almost always go last
    while (index > 0 && this.order[index - 1].seq > message.seq) index -= 1;
    const next = this.order[index] || null;
    this.order.splice(index, 0, message);
    return { index, next };
  }

  /**
   * Replaces a stored message by a newer state of it (edited, deleted, reacted to).
   * @param {Message} message
   * @returns {Message | null} the state it replaced; null when the message is not
   *   here, is another chat's, or is not newer than what is here (by `version`)
   */
  updateMessage(message) {
    if (!message || message.chat_id !== this.chatId) return null;
    const current = this.messages.get(message.id);
    if (!current || (message.version ?? 0) <= (current.version ?? 0)) return null;
    this.messages.set(message.id, message);
    this.learnName(message.sender);
    let index = this.order.length - 1; // changes are mostly to recent messages
    while (index >= 0 && this.order[index].id !== message.id) index -= 1;
    if (index >= 0) this.order[index] = message;
    return current;
  }

  /**
   * @param {Sender | undefined} sender
   */
  learnName(sender) {
    if (sender?.id && sender.name) this.names.set(sender.id, sender.name);
  }

  /**
   * A user's name as seen on their messages, else the id itself.
   * @param {string} userId
   * @returns {string}
   */
  nameOf(userId) {
    return this.names.get(userId) || userId;
  }

  /**
   * The messages that quote `id` (their quote shows its text).
   * @param {string} id
   * @returns {Message[]}
   */
  repliesTo(id) {
    return this.order.filter((message) => message.reply_to === id);
  }

  /**
   * The oldest stored seq (for asking for the page before it), or null.
   * @returns {number | null}
   */
  oldestSeq() {
    return this.order.length ? this.order[0].seq : null;
  }

  /** @returns {boolean} nothing stored, pending or being written */
  isEmpty() {
    return this.order.length === 0 && this.local.size === 0 && this.streams.size === 0;
  }

  /**
   * Adds or updates an own message not stored yet.
   * @param {string} localId
   * @param {string} text
   * @param {LocalState} state
   * @param {ErrorInfo | null} [error]
   * @returns {{item: LocalItem, created: boolean}}
   */
  upsertLocal(localId, text, state, error = null) {
    let item = this.local.get(localId);
    const created = !item;
    if (!item) {
      item = { local_id: localId, text, state, error };
      this.local.set(localId, item);
    }
    item.state = state;
    item.error = error;
    return { item, created };
  }

  /**
   * @param {string} localId
   * @returns {LocalItem | null} the item that went
   */
  removeLocal(localId) {
    const item = this.local.get(localId) || null;
    this.local.delete(localId);
    return item;
  }

  /**
   * The kernel is not answering: sends still "sending" now wait for it.
   * @returns {LocalItem[]} the items that changed
   */
  queueSending() {
    const changed = [...this.local.values()].filter((item) => item.state === "sending");
    for (const item of changed) item.state = "queued";
    return changed;
  }

  /**
   * A piece of a reply being written.
   * @param {Delta} delta
   * @returns {{stream: Stream, created: boolean} | null} null when it is not for this
   *   chat, already stored, or out of range
   */
  addDelta(delta) {
    if (!delta || delta.chat_id !== this.chatId || this.messages.has(delta.id)) return null;
    if (!Number.isInteger(delta.index) || delta.index < 0 || delta.index > MAX_PIECES) return null;
    let stream = this.streams.get(delta.id);
    const created = !stream;
    if (!stream) {
      stream = { id: String(delta.id), reply_to: delta.reply_to || null, pieces: [], count: 0 };
      this.streams.set(delta.id, stream);
    }
    if (stream.pieces[delta.index] === undefined) stream.count += 1;
    stream.pieces[delta.index] = String(delta.delta);
    return { stream, created };
  }

  /**
   * The text written so far.
   * @param {Stream} stream
   * @returns {string}
   */
  static streamText(stream) {
    return stream.pieces.join("");
  }

  /**
   * @param {string} id
   * @returns {boolean} whether a stream by that id went
   */
  endStream(id) {
    return this.streams.delete(id);
  }

  /**
   * No reply will come to `replyTo`: remembered, and its streams end.
   * @param {string} replyTo
   * @param {string} why
   * @returns {string[]} the ids of the streams that ended
   */
  replyFailed(replyTo, why) {
    this.noReply.set(replyTo, why);
    const ended = [...this.streams.values()].filter((s) => s.reply_to === replyTo).map((s) => s.id);
    for (const id of ended) this.streams.delete(id);
    return ended;
  }

  /** @returns {string} the waiting line's words */
  waitingText() {
    const streams = [...this.streams.values()];
    const last = streams[streams.length - 1];
    if (!last) return "Waiting for a reply…";
    return `The bot is writing… (${last.count} ${last.count === 1 ? "piece" : "pieces"} so far)`;
  }

  /**
   * One step of a send (auth fetch, emit, ack, broadcast, reply); duplicates are ignored.
   * @param {SendEvent} event
   * @returns {boolean} whether it was new
   */
  addEvent(event) {
    if (!event?.client_id) return false;
    let steps = this.timelines.get(event.client_id);
    if (!steps) {
      steps = [];
      this.timelines.set(event.client_id, steps);
      while (this.timelines.size > TIMELINE_SENDS) {
        this.timelines.delete(/** @type {string} */ (this.timelines.keys().next().value));
      }
    }
    if (steps.some((s) => s.kind === event.kind && s.elapsed_ms === event.elapsed_ms)) return false;
    steps.push(event);
    return true;
  }

  /**
   * The text of the send with this client id, when known (stored or still local).
   * @param {string} clientId
   * @returns {string | null}
   */
  textOfSend(clientId) {
    const local = this.local.get(clientId);
    if (local) return local.text;
    for (let index = this.order.length - 1; index >= 0; index -= 1) {
      if (this.order[index].client_id === clientId) return this.order[index].text || "";
    }
    return null;
  }
}

/**
 * Why the view cannot send now, in words (empty when it can).
 * @param {{connected: boolean, status: string, awaiting: boolean, sending: boolean,
 *   text: string, over: number, gone: string}} now (gone: what to say once the kernel is gone)
 * @returns {string}
 */
export function sendBlockedBecause(now) {
  if (now.gone) return now.gone;
  if (!now.connected) {
    const status = now.status === "connected" ? "connecting" : now.status;
    return `Not connected to the chat server (${status}). Your text stays here; send it once the status says connected.`;
  }
  if (now.awaiting) return "Waiting for the reply to your last message.";
  if (now.sending) return "Sending…";
  if (now.over > 0) return `Too long: remove ${now.over.toLocaleString("en-US")} characters to send it.`;
  if (!now.text.trim()) return "Type a message first.";
  return "";
}
