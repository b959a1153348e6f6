"""Time phone-number normalisation: the fast path against phonenumbers' parse + validation.

    .venv/bin/python ops/bench/bench_numbers.py [--count 200000] [--seed 1]

Two inputs of ``--count`` numbers each: international numbers as CRMs export them ("+33...",
a third of them from other countries, a few invalid), and French mobiles written nationally
the ways people type them ("06 12 34 56 78", "0612345678", "06.12.34.56.78"). Both paths must
return the same answers; the script checks that before printing numbers per second.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable, Sequence

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from dispatcher.domain.numbers import NumberNormaliser
from dispatcher.errors import NumberRejected

OTHER_REGIONS = ("GB", "DE", "BE", "CH", "ES", "IT", "US", "MA", "SN", "RE")


def french_mobile(rng: random.Random) -> str:
    """National significant digits of a French mobile: 6xxxxxxxx or 7[3-9]xxxxxxx."""
    head = rng.choice(["6", "6", "6", f"7{rng.randint(3, 9)}"])
    return head + "".join(rng.choice("0123456789") for _ in range(9 - len(head)))


def other_mobile(rng: random.Random) -> str:
    """E.164 of a region's example mobile with its last four digits redrawn (a few invalid)."""
    region = rng.choice(OTHER_REGIONS)
    example = phonenumbers.example_number_for_type(region, PhoneNumberType.MOBILE)
    assert example is not None
    e164 = phonenumbers.format_number(example, PhoneNumberFormat.E164)
    return e164[:-4] + "".join(rng.choice("0123456789") for _ in range(4))


def international_inputs(count: int, rng: random.Random) -> list[str]:
    return [
        "+33" + french_mobile(rng) if rng.random() < 2 / 3 else other_mobile(rng)
        for _ in range(count)
    ]


def national_inputs(count: int, rng: random.Random) -> list[str]:
    numbers = []
    for _ in range(count):
        digits = "0" + french_mobile(rng)
        pairs = [digits[i : i + 2] for i in range(0, 10, 2)]
        numbers.append(rng.choice([" ", "", ".", "-"]).join(pairs))
    return numbers


def run(normalise: Callable[[str], str], inputs: Sequence[str]) -> tuple[float, list[str]]:
    """Seconds taken, and each answer (digits, or the rejection reason)."""
    answers = []
    start = time.perf_counter()
    for raw in inputs:
        try:
            answers.append(normalise(raw))
        except NumberRejected as exc:
            answers.append("rejected: " + exc.reason)
    return time.perf_counter() - start, answers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    fast, slow = NumberNormaliser("FR"), NumberNormaliser("FR", fast=False)
    for name, inputs in (
        ("international", international_inputs(args.count, rng)),
        ("national FR", national_inputs(args.count, rng)),
    ):
        run(fast.normalise, inputs[:1000])  # compile each region's patterns before timing
        fast_seconds, fast_answers = run(fast.normalise, inputs)
        slow_seconds, slow_answers = run(slow.normalise, inputs)
        if fast_answers != slow_answers:
            raise SystemExit(f"{name}: the fast path disagrees with phonenumbers")
        accepted = sum(not answer.startswith("rejected") for answer in fast_answers)
        print(
            f"{name:>13}: {len(inputs):,} numbers ({accepted / len(inputs):.1%} accepted)  "
            f"fast {len(inputs) / fast_seconds:>10,.0f}/s ({fast_seconds:.2f} s)  "
            f"phonenumbers {len(inputs) / slow_seconds:>8,.0f}/s ({slow_seconds:.2f} s)  "
            f"x{slow_seconds / fast_seconds:.1f}"
        )


if __name__ == "__main__":
    main()
