// @ts-check
// Noticing that the kernel behind a view is gone (restarted or shut down).
// Placeholder until the widget manager's signal is confirmed.

/**
 * Calls `onGone` once when the model's kernel is gone; returns the unsubscribe.
 * @param {import("./view.js").Model} model
 * @param {() => void} onGone
 * @returns {() => void}
 */
export function watchKernel(model, onGone) {
  const handler = () => onGone();
  model.on("comm_live_update", handler);
  return () => model.off("comm_live_update", handler);
}
