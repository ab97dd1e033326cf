"""Files coming from the widget's front end in chunks, put back together before upload.

The browser sends a file as comm buffers, one chunk per custom message, each
with its offset; the kernel acknowledges each chunk and uploads the whole file
once the last one is in. This module only assembles: no I/O, no threads of
its own (callers come from the kernel's shell thread or a subshell, hence the
lock), so the tests drive it directly.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from .errors import ChatError

MAX_OPEN_UPLOADS = 8
"""Uploads being assembled at once per widget; more waits are refused (memory is bounded)."""


@dataclass
class Upload:
    """One file on its way from the browser: what it is, where it goes, the bytes so far."""

    upload_id: str
    name: str
    mime: str
    size: int
    chat_id: str
    data: bytearray = field(default_factory=bytearray)

    @property
    def received(self) -> int:
        return len(self.data)

    @property
    def complete(self) -> bool:
        return len(self.data) == self.size


class UploadAssembler:
    """The uploads of one widget being assembled, by the front end's upload id."""

    def __init__(self, max_bytes: int, max_open: int = MAX_OPEN_UPLOADS) -> None:
        self.max_bytes = max_bytes
        self.max_open = max_open
        self._open: dict[str, Upload] = {}
        self._lock = threading.Lock()

    def start(self, upload_id: object, name: object, mime: object, size: object,
              chat_id: str) -> Upload:
        """A new upload; a ChatError (`bad_request`, `too_large`) when it cannot be taken."""
        if not isinstance(upload_id, str) or not upload_id:
            raise ChatError("an upload needs an upload_id", code="bad_request")
        if not isinstance(name, str) or not name:
            raise ChatError("an upload needs the file's name", code="bad_request")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise ChatError("an upload needs the file's size in bytes", code="bad_request")
        if size > self.max_bytes:
            raise ChatError(f"the file is {size:,} bytes; files can be at most "
                            f"{self.max_bytes:,} bytes", code="too_large")
        upload = Upload(upload_id, name, mime if isinstance(mime, str) and mime
                        else "application/octet-stream", size, chat_id)
        with self._lock:
            if upload_id in self._open:
                raise ChatError("this upload has already started", code="bad_request")
            if len(self._open) >= self.max_open:
                raise ChatError(f"{self.max_open} files are uploading already: wait for one "
                                "to finish", code="rate_limited")
            self._open[upload_id] = upload
        return upload

    def add(self, upload_id: object, offset: object, chunk: bytes | memoryview) -> Upload:
        """The chunk at `offset` (chunks come in order); the upload as it now stands."""
        with self._lock:
            upload = self._open.get(upload_id) if isinstance(upload_id, str) else None
            if upload is None:
                raise ChatError("no such upload (it finished, failed or never started)",
                                code="not_found")
            if offset != upload.received:
                self._open.pop(upload.upload_id)
                raise ChatError(f"a chunk came at byte {offset}, expected {upload.received}",
                                code="bad_request")
            if upload.received + len(chunk) > upload.size:
                self._open.pop(upload.upload_id)
                raise ChatError("the file is larger than announced", code="bad_request")
            upload.data += chunk
            return upload

    def finish(self, upload_id: str) -> Upload | None:
        """The upload, no longer open (its bytes go to the server now)."""
        with self._lock:
            return self._open.pop(upload_id, None)
