"""The open-file limit a server with thousands of connections needs.

Every websocket is a file descriptor. Linux's usual soft limit (1024) refuses
the 1025th connection with EMFILE, far below what one process can hold (the
load test holds 5,000), while the hard limit is usually much higher; lifting
the soft one to the hard one is what servers such as nginx and PostgreSQL
leave to their operators and what `chat-widget serve` does itself.
"""

from __future__ import annotations

import resource


def raise_open_file_limit() -> int:
    """Lift this process's soft RLIMIT_NOFILE to its hard limit; return the limit now."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError):  # an unlimited hard limit some kernels refuse as soft
            return soft
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]
