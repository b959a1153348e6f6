"""Which provider answer codes may be a metric label: HTTP statuses, and the codes the
adapters' own tables name (copied from each provider's document). Anything else is counted as
``unmapped``, so a provider answering free text cannot grow the label set.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Mapping
from functools import cache

# The adapters' code tables, per provider name (dispatcher/providers/*_codes.py).
_TABLES = {
    "smsmode": "dispatcher.providers.smsmode_codes",
    "envoyer": "dispatcher.providers.envoyer_codes",
    "smsfactor": "dispatcher.providers.smsfactor_codes",
    "bulkgw": "dispatcher.providers.bulkgw_codes",
}
_HTTP_STATUS = re.compile(r"^[1-5][0-9]{2}$")
UNMAPPED = "unmapped"
NO_ANSWER = "none"


@cache
def documented(provider: str) -> frozenset[str]:
    """Every code key of every table in the provider's codes module."""
    module_name = _TABLES.get(provider)
    if module_name is None:
        return frozenset()
    module = importlib.import_module(module_name)
    found: set[str] = set()
    for name, value in vars(module).items():
        if name.isupper() and isinstance(value, Mapping):
            found.update(key for key in value if isinstance(key, str) and len(key) <= 16)
    return frozenset(found)


def bounded_code(provider: str, code: str | None, http_status: int | None) -> str:
    """The label for one answer: its documented code, else its HTTP status, else
    ``none`` when no answer came, else ``unmapped``."""
    if code:
        code = code.strip()
        if code in documented(provider):
            return code
        if _HTTP_STATUS.match(code):
            return code
        return UNMAPPED
    if http_status is not None:
        return str(http_status) if _HTTP_STATUS.match(str(http_status)) else UNMAPPED
    return NO_ANSWER
