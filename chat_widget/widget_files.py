"""The widget's files and search: uploads from the front end, download links, search.

A mixin of ChatWidget. The browser never holds the user's token, so it asks
the kernel for everything: a file dropped into the view comes in chunks
(comm buffers, put together by `uploads.UploadAssembler`), and the kernel
uploads it with `client.upload` and sends a message carrying its file part;
a download or a thumbnail asks for a signed link (`client.file_link`), which
the browser opens; a search asks `client.search`. Each request is answered
at once (`received` or a progress message) and the work runs on a worker
thread, as for the widget's other requests.
"""

from __future__ import annotations

import contextlib
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import traitlets

from .client.files import file_part
from .content import MessageContent
from .errors import ChatError, plain_error
from .uploads import Upload, UploadAssembler

DEFAULT_MAX_FILE_BYTES = 25 * 1024 * 1024
"""The protocol's default limit on a file (a server may be configured otherwise)."""

SEARCH_LIMIT = 20
_PREPARED_KEPT = 20  # file messages kept for a Retry after their send failed


class FileRequests(traitlets.HasTraits):
    """Uploads, file links and search for the front end (see docs/widget.md)."""

    max_file_bytes = traitlets.Int(
        DEFAULT_MAX_FILE_BYTES,
        help="The largest file an upload may be: the view refuses bigger ones before sending.",
    ).tag(sync=True)

    def _start_files(self) -> None:
        self._assembler = UploadAssembler(self.max_file_bytes)
        self._uploads = ThreadPoolExecutor(1, thread_name_prefix="chat-widget-upload")
        self._lookups = ThreadPoolExecutor(1, thread_name_prefix="chat-widget-lookup")
        self._prepared: OrderedDict[str, MessageContent] = OrderedDict()

    def _stop_files(self) -> None:
        for pool in ("_uploads", "_lookups"):
            if hasattr(self, pool):
                getattr(self, pool).shutdown(wait=False, cancel_futures=True)

    @traitlets.observe("max_file_bytes")
    def _limit_changed(self, change: traitlets.Bunch) -> None:
        if hasattr(self, "_assembler"):
            self._assembler.max_bytes = int(change["new"])

    def _files_message(self, kind: Any, request_id: Any, content: dict[str, Any],
                       buffers: list[Any]) -> bool:
        """The front end's file and search requests; False for any other message."""
        if kind == "upload":
            self._upload_started(request_id, content)
        elif kind == "upload_chunk":
            self._upload_chunk(content, buffers)
        elif kind == "file_link":
            self._push({"type": "received", "request_id": request_id})
            self._lookups.submit(self._file_link, request_id, content.get("file_id"))
        elif kind == "search":
            self._push({"type": "received", "request_id": request_id})
            self._lookups.submit(self._search, request_id, content.get("q"))
        else:
            return False
        return True

    # -- uploads ---------------------------------------------------------------

    def _upload_started(self, request_id: Any, content: dict[str, Any]) -> None:
        upload_id = content.get("upload_id")
        try:
            upload = self._assembler.start(upload_id, content.get("name"), content.get("mime"),
                                           content.get("size"), self.chat_id)
        except ChatError as error:
            self._upload_failed(upload_id, error, request_id)
            return
        self._push({"type": "upload_progress", "request_id": request_id,
                    "upload_id": upload.upload_id, "received": 0})
        if upload.complete:  # an empty file
            self._upload_complete(upload)

    def _upload_chunk(self, content: dict[str, Any], buffers: list[Any]) -> None:
        upload_id = content.get("upload_id")
        try:
            if len(buffers) != 1:
                raise ChatError("a chunk carries its bytes as one buffer", code="bad_request")
            upload = self._assembler.add(upload_id, content.get("offset"), bytes(buffers[0]))
        except ChatError as error:
            self._upload_failed(upload_id, error)
            return
        self._push({"type": "upload_progress", "upload_id": upload.upload_id,
                    "received": upload.received})
        if upload.complete:
            self._upload_complete(upload)

    def _upload_complete(self, upload: Upload) -> None:
        if self._assembler.finish(upload.upload_id) is not None:
            self._uploads.submit(self._upload_and_send, upload)

    def _upload_and_send(self, upload: Upload) -> None:
        """Worker thread: the file to the server, then a message with its part into the chat."""
        try:
            file = self.client.upload(bytes(upload.data), upload.name, mime=upload.mime,
                                      chat_id=upload.chat_id)
        except ChatError as error:
            self._upload_failed(upload.upload_id, error)
            return
        self._push({"type": "upload_done", "upload_id": upload.upload_id, "file": dict(file)})
        message = MessageContent("", [file_part(file)])
        self._prepared[upload.upload_id] = message
        while len(self._prepared) > _PREPARED_KEPT:
            self._prepared.popitem(last=False)
        # The upload id is the message's local id: a Retry of a failed send
        # sends this file part again (see `_prepared_content`).
        with contextlib.suppress(ChatError):  # shown as send_failed, with Retry, and in `error`
            self._deliver(upload.upload_id, message, f"File: {upload.name}", upload.chat_id)

    def _prepared_content(self, local_id: str, text: str) -> str | MessageContent:
        """What a Retry from the front end sends: a file message's part, else the text."""
        return self._prepared.get(local_id, text)

    def _upload_failed(self, upload_id: Any, error: ChatError, request_id: Any = None) -> None:
        if isinstance(upload_id, str):
            self._assembler.finish(upload_id)
        self._push({"type": "upload_failed", "request_id": request_id, "upload_id": upload_id,
                    "error": {"code": error.code, "message": plain_error(error)}})

    # -- links and search --------------------------------------------------------

    def _file_link(self, request_id: Any, file_id: Any) -> None:
        answer: dict[str, Any] = {"type": "file_link", "request_id": request_id,
                                  "file_id": file_id}
        try:
            if not isinstance(file_id, str) or not file_id:
                raise ChatError("a file link needs the file's id", code="bad_request")
            answer["url"] = self.client.file_link(file_id)
        except ChatError as error:
            answer["error"] = plain_error(error)
        self._push(answer)

    def _search(self, request_id: Any, q: Any) -> None:
        answer: dict[str, Any] = {"type": "search_results", "request_id": request_id, "q": q}
        try:
            if not isinstance(q, str) or not q.strip():
                raise ChatError("type the words to find", code="bad_request")
            answer["messages"] = self.client.search(q, limit=SEARCH_LIMIT)
        except ChatError as error:
            answer.update(messages=[], error=plain_error(error))
        self._push(answer)

    # provided by ChatWidget
    client: Any
    chat_id: str

    def _push(self, content: Any, buffers: list[Any] | None = None) -> None:
        raise NotImplementedError

    def _deliver(self, local_id: str, content: str | MessageContent, text: str,
                 chat_id: str | None = None) -> Any:
        raise NotImplementedError
