// @ts-check
// The anywidget entry: render({model, el}) draws one view of a ChatWidget.
//
// The view lives in a shadow root of `el` with its own stylesheet, so the
// notebook's styles (JupyterLab's `pre { white-space: pre-wrap }`, its link
// resets) cannot reach in and the widget's styles never leak out; the
// theme's CSS variables are inherited through it, so colours follow
// JupyterLab Light, Dark and High Contrast.

import { notebookInserter } from "./cells.js";
import { setCellInserter } from "./code.js";
import { watchKernel } from "./kernel.js";
import { ChatView } from "./view.js";
import css from "./widget.css";

/**
 * @param {{model: import("./view.js").Model, el: HTMLElement}} props
 * @returns {() => void} what anywidget calls when the view goes
 */
function render({ model, el }) {
  el.dataset.lmSuppressShortcuts = "true"; // keys typed in the chat are not notebook shortcuts
  setCellInserter(notebookInserter());
  const shadow = el.shadowRoot || el.attachShadow({ mode: "open" });
  const style = document.createElement("style");
  style.textContent = css;
  shadow.replaceChildren(style);
  const view = new ChatView(model, shadow);
  const unwatch = watchKernel(/** @type {any} */ (model), (end) => view.kernelGone(end));
  return () => {
    unwatch();
    view.destroy();
  };
}

export default { render };
