"""Alembic's entry point: migrate on the connection the server hands over.

The server runs migrations itself at start (`chat_widget.server.migrate`), in
its own transaction on its own connection, so this file never opens one. The
search index is made per database by hand (`search.py`), so comparisons with
the model leave it out.
"""

from __future__ import annotations

from alembic import context

from chat_widget.server.schema import metadata
from chat_widget.server.search import include_name

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, include_name=include_name)
with context.begin_transaction():
    context.run_migrations()
