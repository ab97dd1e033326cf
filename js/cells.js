// @ts-check
// "Insert as cell": where the page lets a widget reach the notebook, a code
// block's code can go into a new cell below the active one.
//
// An anywidget view has no API for the notebook around it. JupyterLab and
// Notebook 7 give pages their application object only when started with
// `--expose-app-in-browser` (`window.jupyterapp`); there, the notebook's own
// command inserts the cell. Elsewhere (JupyterLab without that flag, VS Code,
// Colab, a plain web page) the button is not offered; Copy always is.

/**
 * How to insert a cell on this page, or null when the page does not allow it.
 * @returns {((code: string) => boolean) | null}
 */
export function notebookInserter() {
  const app = /** @type {any} */ (window).jupyterapp;
  if (!app?.commands?.hasCommand?.("notebook:insert-cell-below")) return null;
  return (code) => {
    const notebook = app.shell?.currentWidget?.content;
    if (!notebook?.model) return false; // the active tab is not a notebook
    app.commands.execute("notebook:insert-cell-below").then(() => {
      notebook.activeCell?.model.sharedModel.setSource(code.replace(/\n+$/, ""));
    });
    return true;
  };
}
