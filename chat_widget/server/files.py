"""Files (protocol 1.1): upload, fetch, signed links, and file parts in messages.

`FileService` says what each file route means; the routes (`file_routes.py`)
only frame it. Only a member of a chat's workspace may upload to the chat or
fetch its files (`forbidden`); the bytes go through `blobs.py`, the rules on
names and types are in `file_rules.py`, links in `file_links.py`.

A message names files by parts `{"type": "file", "file_id", ...}`;
`resolve_file_parts` checks, in a send or an edit, that each was uploaded by
the sender to that chat (else `bad_request`) and fills the part's `name`,
`mime` and `size` from the file as stored, so a part always tells the truth.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Connection, insert, select

from .. import protocol
from ..errors import ChatError
from ..protocol import Chat, File, FileLink, Part
from .blobs import BlobStore, spool
from .file_links import FileLinks
from .file_rules import declared_mime, file_name
from .schema import files
from .store import Store, User, utc_now_rfc3339

DEFAULT_MAX_FILE_SIZE = 25 * 1024 * 1024

# ChatService.open_chat: the chat if the user may open it (not_found, forbidden).
OpenChat = Callable[[User, Any], Awaitable[Chat]]


@dataclass(frozen=True)
class StoredFile:
    """A file's row: what the protocol shows, and who uploaded it."""

    id: str
    chat_id: str
    uploader_id: str
    name: str
    mime: str
    size: int
    sha256: str

    def as_file(self) -> File:
        return {"id": self.id, "chat_id": self.chat_id, "name": self.name, "mime": self.mime,
                "size": self.size, "sha256": self.sha256}

    def as_part(self) -> Part:
        return {"type": protocol.FILE_PART, "file_id": self.id, "name": self.name,
                "mime": self.mime, "size": self.size}


class FileService:
    """Uploads, downloads and links, each checked against the chat's membership."""

    def __init__(self, store: Store, open_chat: OpenChat, blobs: BlobStore, links: FileLinks,
                 max_size: int = DEFAULT_MAX_FILE_SIZE) -> None:
        self.store = store
        self._open_chat = open_chat
        self.blobs = blobs
        self.links = links
        self.max_size = max_size

    async def upload(self, user: User, chat_id: str, name: Any, content_type: str | None,
                     content_length: int | None, body: AsyncIterator[bytes]) -> File:
        """Check, stream the body to the blob store, and record the file."""
        chat = await self._open_chat(user, chat_id)
        name = file_name(name)
        mime = declared_mime(content_type)
        if content_length is not None and content_length > self.max_size:
            raise ChatError(f"the file is larger than this server's limit of "
                            f"{self.max_size:,} bytes", code="too_large")
        spooled = await spool(body, self.blobs.spool_dir, self.max_size)
        await self.blobs.keep(spooled)
        stored = StoredFile(uuid.uuid4().hex, chat["id"], user.id, name, mime, spooled.size,
                            spooled.sha256)
        await self.store.db.run(_add_file, stored)
        return stored.as_file()

    async def readable(self, user: User, file_id: str) -> StoredFile:
        """The file, if it exists (`not_found`) and the user may open its chat."""
        stored = await self._find(file_id)
        await self._open_chat(user, stored.chat_id)
        return stored

    async def by_link(self, file_id: str, signature: str) -> StoredFile:
        """The file a signed link names (`unauthorized` if tampered or expired)."""
        self.links.verify(signature, file_id)
        return await self._find(file_id)

    async def link(self, user: User, file_id: str, base_url: str) -> FileLink:
        """A URL fetching the file with no token, for at most 5 minutes."""
        stored = await self.readable(user, file_id)
        signature, expires_at = self.links.issue(stored.id)
        return {"url": f"{base_url}/api/files/{stored.id}?sig={signature}",
                "expires_at": expires_at}

    def chunks(self, stored: StoredFile) -> AsyncIterator[bytes]:
        return self.blobs.chunks(stored.sha256, stored.size)

    async def _find(self, file_id: str) -> StoredFile:
        file_id = protocol.require_text(file_id, "file_id")
        found = await self.store.db.run(_files_by_id, [file_id])
        if not found:
            raise ChatError(f"there is no file {file_id!r}", code="not_found")
        return found[file_id]


async def resolve_file_parts(store: Store, user_id: str, chat_id: str,
                             parts: list[Part]) -> list[Part]:
    """`parts` with each file part checked and completed from the stored file."""
    wanted = [part["file_id"] for part in parts if part["type"] == protocol.FILE_PART]
    if not wanted:
        return parts
    found = await store.db.run(_files_by_id, wanted)
    resolved: list[Part] = []
    for part in parts:
        if part["type"] != protocol.FILE_PART:
            resolved.append(part)
            continue
        stored = found.get(part["file_id"])
        if stored is None:
            raise ChatError(f"there is no file {part['file_id']!r}: upload it first",
                            code="bad_request")
        if stored.chat_id != chat_id:
            raise ChatError("that file was uploaded to another chat", code="bad_request")
        if stored.uploader_id != user_id:
            raise ChatError("that file was uploaded by someone else", code="bad_request")
        resolved.append(cast(Part, {**part, **stored.as_part()}))
    return resolved


def _add_file(conn: Connection, stored: StoredFile) -> None:
    conn.execute(insert(files).values(
        id=stored.id, chat_id=stored.chat_id, uploader_id=stored.uploader_id,
        name=stored.name, mime=stored.mime, size=stored.size, sha256=stored.sha256,
        created_at=utc_now_rfc3339()))


def _files_by_id(conn: Connection, file_ids: list[str]) -> dict[str, StoredFile]:
    rows = conn.execute(select(files).where(files.c.id.in_(file_ids)))
    return {row.id: StoredFile(row.id, row.chat_id, row.uploader_id, row.name, row.mime,
                               row.size, row.sha256) for row in rows}
