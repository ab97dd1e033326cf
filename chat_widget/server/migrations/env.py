"""Alembic's entry point: migrate on the connection the server hands over.

The server runs migrations itself at start (`chat_widget.server.migrate`), in
its own transaction on its own connection, so this file never opens one.
"""

from __future__ import annotations

from alembic import context

from chat_widget.server.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata)
with context.begin_transaction():
    context.run_migrations()
