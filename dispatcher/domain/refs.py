"""Our reference for a batch on the provider's side (sMsmode's refClient, for instance).

Reports pushed by a provider carry it back, so even a batch whose send answer was lost (an
``unknown`` batch) can be matched with what the provider really did.
"""

from __future__ import annotations


def client_ref(batch_id: int) -> str:
    return f"b{batch_id}"


def batch_id_from_client_ref(ref: str | None) -> int | None:
    if ref and ref.startswith("b") and ref[1:].isdigit():
        return int(ref[1:])
    return None
