"""Who is acting, as the audit trail names them (persistence/audit.py).

The CLI and the Python API act as the operating-system user (``os:<user>``); the HTTP
service passes ``key:<name>`` of the bearer key that let the request in. Names only: a key
itself never reaches the audit trail.
"""

from __future__ import annotations

import getpass


def os_actor() -> str:
    """``os:`` and the login name; ``os:unknown`` where none can be found (a container
    running under a uid with no passwd entry)."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"os:{user}"


def key_actor(name: str) -> str:
    return f"key:{name}"
