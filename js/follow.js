// @ts-check
// Whether the message list follows the bottom (new content scrolls into view)
// or the reader has let go of it (what arrives is counted as "new below").
//
// A move up lets go of the bottom, except the browser's own: when content
// shrinks (a message deleted or drawn again shorter, an image smaller than
// its placeholder, a page of history replaced), layout lowers `scrollTop` to
// the new end. The scroll event of that clamp comes a frame later, and new
// content may have come by then, so it looks like the reader scrolled up and
// away from the bottom. What tells it apart is seen first: the list's
// ResizeObserver runs after that layout and finds `scrollTop` lower than the
// last scroll event left it, with no scroll event in between; or the event
// finds the content shorter than the last one did.

export class BottomFollower {
  constructor() {
    this.stick = true; // the list follows new content while scrolled to the bottom
    this.lastTop = 0; // scrollTop at the last scroll event
    this.lastHeight = 0; // scrollHeight at the last scroll event
    this.clamped = false; // layout lowered scrollTop since the last scroll event
  }

  /**
   * The content changed size and was laid out (a ResizeObserver's callback).
   * @param {number} top the list's scrollTop now
   */
  resized(top) {
    if (top < this.lastTop) this.clamped = true;
  }

  /**
   * A scroll event: the list follows again once at its bottom, and lets go on
   * a move up that layout did not make.
   * @param {number} top the list's scrollTop now
   * @param {number} height the list's scrollHeight now
   * @param {boolean} nearBottom whether the list is (near) its bottom now
   * @returns {boolean} whether the list follows the bottom
   */
  scrolled(top, height, nearBottom) {
    const clamped = this.clamped || height < this.lastHeight;
    if (nearBottom) this.stick = true;
    else if (top < this.lastTop && !clamped) this.stick = false;
    this.lastTop = top;
    this.lastHeight = height;
    this.clamped = false;
    return this.stick;
  }
}
