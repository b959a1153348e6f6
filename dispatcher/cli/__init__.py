"""``dispatcher``: the command line of producers and operators.

One module per subject; importing them registers their commands on the group of ``app.py``.
"""

from dispatcher.cli import (
    accounts,
    batches,
    campaigns,
    doctor,
    listing,
    local,
    monitoring,
    optout,
    run,
    status,
)
from dispatcher.cli.app import cli, main

__all__ = [
    "accounts",
    "batches",
    "campaigns",
    "cli",
    "doctor",
    "listing",
    "local",
    "main",
    "monitoring",
    "optout",
    "run",
    "status",
]
