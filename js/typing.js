// @ts-check
// Telling the kernel that this user is typing: `true` when typing starts and
// again at most every TYPING_REPEAT_MS while it goes on (the server lets a
// `typing: true` lapse after 6 s), `false` once the text is sent or cleared.

export const TYPING_REPEAT_MS = 3000;

export class TypingSender {
  /**
   * @param {(typing: boolean) => void} send tells the kernel
   * @param {() => number} [now] milliseconds (the tests pass a clock)
   */
  constructor(send, now = () => Date.now()) {
    this.send = send;
    this.now = now;
    this.typing = false;
    this.lastSent = Number.NEGATIVE_INFINITY;
  }

  /** @param {string} text the input's text after a keystroke */
  changed(text) {
    if (!text.trim()) {
      this.stop();
      return;
    }
    const now = this.now();
    if (this.typing && now - this.lastSent < TYPING_REPEAT_MS) return;
    this.typing = true;
    this.lastSent = now;
    this.send(true);
  }

  /** The text went (sent or cleared): say so once. */
  stop() {
    if (this.stopQuietly()) this.send(false);
  }

  /**
   * The text went with a message that says the typing ended itself.
   * @returns {boolean} whether typing had been announced (and so needs ending)
   */
  stopQuietly() {
    if (!this.typing) return false;
    this.typing = false;
    this.lastSent = Number.NEGATIVE_INFINITY;
    return true;
  }
}
