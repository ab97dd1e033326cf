// @ts-check
// Noticing that the kernel behind a view is gone (restarted or shut down),
// so the view can say so instead of waiting for it forever.
//
// In JupyterLab and Notebook 7, anywidget hands the view the widget manager
// (`model.widget_manager`), whose `kernel` is the notebook's kernel
// connection: its `statusChanged` signal says "restarting", "autorestarting"
// or "dead" when that kernel goes (the manager itself then marks every model's
// comm dead). A new kernel never brings this widget back: its Python object
// went with the old one. Where the manager has no kernel (other front ends),
// the model's "comm_live_update" event, which fires when its comm goes dead,
// is the sign instead.

/** @typedef {"restarted" | "stopped"} KernelEnd */

const ENDS = /** @type {Record<string, KernelEnd>} */ ({
  restarting: "restarted",
  autorestarting: "restarted",
  dead: "stopped",
});

/**
 * @typedef {{connect: (slot: (sender: unknown, value: string) => void) => unknown,
 *   disconnect: (slot: (sender: unknown, value: string) => void) => unknown}} Signal
 */

/**
 * Calls `onGone` once when the model's kernel is gone; returns the unsubscribe.
 * @param {{on: (name: string, handler: () => void) => void, off: (name: string, handler: () => void) => void,
 *   widget_manager?: any}} model
 * @param {(end: KernelEnd) => void} onGone
 * @returns {() => void}
 */
export function watchKernel(model, onGone) {
  let done = false;
  /** @param {KernelEnd} end */
  const gone = (end) => {
    if (done) return;
    done = true;
    onGone(end);
  };
  const kernel = model.widget_manager?.kernel;
  /** @type {Signal | undefined} */
  const signal = kernel?.statusChanged;
  if (signal && typeof signal.connect === "function") {
    /** @type {(sender: unknown, status: string) => void} */
    const slot = (_sender, status) => {
      if (ENDS[status]) gone(ENDS[status]);
    };
    signal.connect(slot);
    return () => signal.disconnect(slot);
  }
  const dead = () => gone("restarted");
  model.on("comm_live_update", dead);
  return () => model.off("comm_live_update", dead);
}
