"""The client's side of protocol 1.1 files and search, over HTTP.

`FileApi` uploads (a path is streamed from disk, never read whole),
downloads (to memory, or streamed to a file), asks for signed links, and
searches. `attach` is what `send` does with files: a `Path` is uploaded and
sent as a file part; with `as_file="csv"` or `"parquet"` a DataFrame goes as
its table part, as always, with the whole frame attached as a file beside it.
"""

from __future__ import annotations

import importlib.util
import io
import mimetypes
import os
import re
from pathlib import Path
from typing import IO, Any, cast
from urllib.parse import quote, unquote

from .. import protocol
from ..content import MessageContent, to_content
from ..errors import ChatError
from ..protocol import File, Message, Part
from .http import HttpApi

AS_FILE_FORMATS = {"csv": "text/csv", "parquet": "application/vnd.apache.parquet"}
_DOWNLOAD_CHUNK = 256 * 1024
_FILENAME_STAR = re.compile(r"filename\*=UTF-8''([^;]+)", re.IGNORECASE)


def file_id_of(file: Any) -> str:
    """The id in a file part, a File, or an id given as it is."""
    if isinstance(file, str) and file:
        return file
    if isinstance(file, dict):
        found = file.get("file_id") if file.get("type") == protocol.FILE_PART else file.get("id")
        if isinstance(found, str) and found:
            return found
    raise ChatError("name a file: a file part, a File from upload(), or its id",
                    code="bad_request")


class FileApi:
    """Files and search for one signed-in user (the HTTP session of its ChatClient)."""

    def __init__(self, http: HttpApi) -> None:
        self._http = http

    def upload(self, source: str | os.PathLike[str] | bytes, chat_id: str,
               name: str | None = None, mime: str | None = None) -> File:
        """Upload bytes, or the file at a path (streamed), to `chat_id`; the stored File."""
        body: IO[bytes] | bytes
        if isinstance(source, (bytes, bytearray, memoryview)):
            if name is None:
                raise ChatError("name the bytes: upload(data, name='results.csv')",
                                code="bad_request")
            body = bytes(source)
        else:
            path = Path(source)
            if not path.is_file():
                raise ChatError(f"no file at {str(path)!r}", code="bad_request")
            name = name or path.name
            body = path.open("rb")
        mime = mime or mimetypes.guess_type(name)[0] or "application/octet-stream"
        try:
            answer = self._http.call(
                "POST", f"/api/chats/{quote(chat_id, safe='')}/files", data=body,
                params={"name": name}, headers={"Content-Type": mime})
        finally:
            if not isinstance(body, bytes):
                body.close()
        return cast(File, answer["file"])

    def download(self, file: Any, to: str | os.PathLike[str] | None = None) -> bytes | Path:
        """The file's bytes; with `to`, streamed to that path (or into that directory,
        under the file's own name) and the path returned."""
        file_id = file_id_of(file)
        with self._http.open("GET", f"/api/files/{quote(file_id, safe='')}") as response:
            if to is None:
                return response.content
            target = Path(to)
            if target.is_dir():
                target = target / _safe_name(_name_from(response, file) or file_id)
            with target.open("wb") as handle:
                for chunk in response.iter_content(_DOWNLOAD_CHUNK):
                    handle.write(chunk)
            return target

    def link(self, file: Any) -> str:
        """A URL that fetches the file without a token (for a browser), for a few minutes."""
        answer = self._http.call("POST", f"/api/files/{quote(file_id_of(file), safe='')}/link")
        return str(answer["url"])

    def search(self, q: str, chat_id: str | None = None, limit: int = 20) -> list[Message]:
        """Messages holding every word of `q`, best first (all your chats, or `chat_id`)."""
        params: dict[str, Any] = {"q": q, "limit": limit}
        if chat_id is not None:
            params["chat_id"] = chat_id
        found = self._http.call("GET", "/api/search", params=params).get("messages") or []
        return [m for m in (protocol.as_message(item) for item in found) if m is not None]

    def attach(self, content: Any, chat_id: str, as_file: str | None) -> Any:
        """`content` with its files uploaded: a Path becomes a file part; `as_file`
        adds the DataFrame as a file beside its table. Other content is unchanged."""
        if isinstance(content, os.PathLike):
            if as_file is not None:
                raise ChatError("as_file is for a DataFrame; a path is sent as the file itself",
                                code="bad_request")
            return MessageContent("", [file_part(self.upload(content, chat_id))])
        if as_file is None:
            return content
        data, name, mime = frame_file(content, as_file)
        converted = to_content(content)
        return MessageContent(converted.text,
                              [*converted.parts, file_part(self.upload(data, chat_id, name, mime))])


def frame_file(frame: Any, as_file: str) -> tuple[bytes, str, str]:
    """A DataFrame as the bytes of a CSV or Parquet file, with a name and type."""
    if as_file not in AS_FILE_FORMATS:
        raise ChatError(f"as_file must be one of {', '.join(AS_FILE_FORMATS)}, "
                        f"not {as_file!r}", code="bad_request")
    if not hasattr(frame, "to_csv"):
        raise ChatError("as_file needs a pandas DataFrame (or Series)", code="bad_request")
    if as_file == "csv":
        return frame.to_csv().encode("utf-8"), "data.csv", AS_FILE_FORMATS["csv"]
    if importlib.util.find_spec("pyarrow") is None:  # pandas writes Parquet with it
        raise ChatError("as_file='parquet' needs pyarrow: pip install pyarrow "
                        "(or send as_file='csv')", code="bad_request")
    buffer = io.BytesIO()
    frame_to_write = frame.to_frame() if hasattr(frame, "to_frame") else frame
    frame_to_write.to_parquet(buffer)
    return buffer.getvalue(), "data.parquet", AS_FILE_FORMATS["parquet"]


def file_part(file: File) -> Part:
    return {"type": protocol.FILE_PART, "file_id": file["id"], "name": file["name"],
            "mime": file["mime"], "size": file["size"]}


def _name_from(response: Any, file: Any) -> str | None:
    if isinstance(file, dict) and isinstance(file.get("name"), str):
        return str(file["name"])
    found = _FILENAME_STAR.search(response.headers.get("Content-Disposition", ""))
    return unquote(found.group(1)) if found else None


def _safe_name(name: str) -> str:
    """A name from the server made safe as one path component."""
    cleaned = name.replace("/", "_").replace("\\", "_").strip()
    return cleaned if cleaned not in ("", ".", "..") else "download"
