"""A real IPython kernel for tests: run cells one by one, read their outputs, restart it.

nbclient starts a `python3` ipykernel (with this process's environment, so
`PYTHONPATH` and the data directory carry over) and runs each cell as
JupyterLab would; an error is recorded as the notebook would show it.
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import Any

import nbformat
from nbclient import NotebookClient
from nbclient.util import run_sync


class Kernel:
    """`with Kernel(folder) as kernel: kernel.run("print(1)")`."""

    def __init__(self, folder: Path, timeout: float = 120) -> None:
        self.notebook = nbformat.v4.new_notebook()
        self.client = NotebookClient(
            self.notebook, timeout=timeout, kernel_name="python3", allow_errors=True,
            resources={"metadata": {"path": str(folder)}})
        self._setup = self.client.setup_kernel()

    def __enter__(self) -> Kernel:
        self._setup.__enter__()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self._setup.__exit__(kind, error, traceback)

    def run(self, source: str) -> Cell:
        """Run one cell and return it with its outputs."""
        cell = nbformat.v4.new_code_cell(source)
        self.notebook.cells.append(cell)
        self.client.execute_cell(cell, len(self.notebook.cells) - 1)
        return Cell(cell)

    def restart(self) -> None:
        """Restart the kernel, as JupyterLab's Restart Kernel does: the process ends."""
        run_sync(self.client.km.restart_kernel)(now=True)
        run_sync(self.client.kc.wait_for_ready)(timeout=60)


class Cell:
    """What a cell showed: printed text, and the error as a notebook renders it."""

    def __init__(self, cell: Any) -> None:
        self.outputs = cell.outputs

    @property
    def printed(self) -> str:
        return "".join(out.get("text", "") for out in self.outputs
                       if out.output_type == "stream")

    @property
    def error(self) -> list[str] | None:
        """The error's lines as shown (the traceback IPython formatted), or None."""
        for out in self.outputs:
            if out.output_type == "error":
                return "\n".join(out.traceback).splitlines()
        return None

    def ok(self) -> Cell:
        """This cell, checked to have run without an error."""
        assert self.error is None, "\n".join(self.error or [])
        return self
