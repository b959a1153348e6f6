"""Sample audiences for the demo, the tests and the benchmark: valid French mobile numbers.

Deterministic for a seed, distinct, and valid by ``phonenumbers``' own metadata (random
digits after 336/337 are not all allocated ranges).
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator

import phonenumbers


def _french_mobile_pattern() -> re.Pattern[str]:
    metadata = phonenumbers.PhoneMetadata.metadata_for_region("FR")
    pattern = metadata.mobile.national_number_pattern if metadata and metadata.mobile else None
    if not pattern:
        raise RuntimeError("phonenumbers has no French mobile pattern")
    return re.compile(pattern)


_MOBILE = _french_mobile_pattern()


def french_mobiles(
    count: int, *, seed: int = 2026, suffix: str = "", avoid: tuple[str, ...] = ()
) -> Iterator[str]:
    """``count`` distinct numbers "33" + 9 national digits, all ending in ``suffix`` and none
    ending in one of ``avoid``."""
    rng = random.Random(seed)
    stem_digits = 9 - len(suffix)
    low, high = 6 * 10 ** (stem_digits - 1), 8 * 10 ** (stem_digits - 1)
    made = 0
    # Sampling without replacement keeps the numbers distinct without remembering them.
    for stem in rng.sample(range(low, high), min(high - low, count * 3 + 1000)):
        national = f"{stem}{suffix}"
        if _MOBILE.fullmatch(national) and not national.endswith(avoid):
            yield "33" + national
            made += 1
            if made == count:
                return
    raise ValueError(f"could not make {count} numbers ending in {suffix!r}")
