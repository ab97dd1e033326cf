"""`python -m chat_widget` is the `chat-widget` command."""

from .cli import main

raise SystemExit(main())
