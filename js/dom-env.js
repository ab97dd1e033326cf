// @ts-check
// For the node tests: a jsdom window as the globals the modules use
// (document, window, navigator), set before any module under test loads.

import { JSDOM } from "jsdom";

const dom = new JSDOM("<!doctype html><html><head></head><body></body></html>", {
  url: "http://localhost/",
  pretendToBeVisual: true,
});
const globals = /** @type {Record<string, unknown>} */ (/** @type {unknown} */ (globalThis));
for (const name of ["document", "navigator", "Node", "HTMLElement", "MutationObserver", "getComputedStyle"]) {
  if (!(name in globalThis) || name === "navigator") {
    Object.defineProperty(globalThis, name, { value: /** @type {any} */ (dom.window)[name], configurable: true });
  }
}
globals.window = dom.window;

// jsdom lays nothing out, so nothing is ever resized or scrolled into view:
// the observers the view starts are there, and never fire.
class NoLayoutObserver {
  observe() {}
  unobserve() {}
  disconnect() {}
}
for (const name of ["ResizeObserver", "IntersectionObserver"]) {
  if (!(name in globalThis)) Object.defineProperty(globalThis, name, { value: NoLayoutObserver, configurable: true });
}

// jsdom has no MathMLElement, so MathML elements lack `style` (browsers have
// it). Temml sets a few styles on them: here they go to the style attribute.
const ElementClass = dom.window.Element.prototype;
if (!("style" in ElementClass)) {
  Object.defineProperty(ElementClass, "style", {
    get() {
      const element = /** @type {Element} */ (this);
      return new Proxy({}, {
        set(_target, property, value) {
          const name = String(property).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
          const before = element.getAttribute("style") || "";
          element.setAttribute("style", `${before}${name}: ${value};`);
          return true;
        },
        get: () => "",
      });
    },
  });
}

export { dom };
