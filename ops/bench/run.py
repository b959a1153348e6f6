"""``./dev bench``: the dispatcher's speed on this machine, against a per-recipient baseline.

    ./dev bench                          # 100,000 recipients, one run, baseline on 2,000
    ./dev bench --recipients 10000,100000,1000000 --runs 3 --callbacks

Starts everything it measures (PostgreSQL and Redis as the tests find them, the sandbox,
workers per queue, beat, the HTTP service for the callback variant) and stops it all. Prints
a table and writes JSON (``--json``, default ops/bench/results/<time>.json). Fixed seed;
every wait is bounded. A benchmark, not a test: nothing here asserts a duration.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dispatcher.local.sample import french_mobiles
from dispatcher.local.servers import local_servers
from dispatcher.logs import configure_logging
from ops.bench.baseline import run_baseline
from ops.bench.callbacks import run_ingestion
from ops.bench.pipeline import run_pipeline

RESULTS = Path(__file__).parent / "results"


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = _arguments(argv)
    configure_logging("WARNING")
    sizes = [int(n) for n in args.recipients.split(",")]
    report: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30),
        },
        "runs": [],
        "baseline": None,
    }
    with (
        tempfile.TemporaryDirectory(prefix="dispatcher-bench-") as work,
        local_servers(Path(work) / "servers", redis_db=args.redis_db) as servers,
    ):
        report["servers"] = servers.source
        plan = [(size, "poll") for size in sizes]
        if args.callbacks:
            plan += [(args.callback_recipients, "callbacks")]
        for size, variant in plan:
            numbers = list(french_mobiles(size, seed=args.seed))
            for run in range(args.runs):
                figures = run_pipeline(
                    servers, numbers, Path(work) / f"{size}-{variant}-{run}",
                    variant=variant, timeout=args.timeout,
                )  # fmt: skip
                report["runs"].append(figures.as_dict())
                _say(
                    f"  {variant} N={size:,} run {run + 1}: enqueue {figures.enqueue_s:.2f} s, "
                    f"submitted +{figures.submitted_s:.2f} s, "
                    f"reported +{figures.reported_s:.2f} s"
                )
        if args.callbacks:
            report["ingestion"] = [
                run_ingestion(
                    servers,
                    Path(work) / f"ingest-{kill}",
                    count=args.ingestion,
                    kill_after=(2.0 if kill else None),
                ).as_dict()
                for kill in (False, True)
            ]
        if args.baseline:
            numbers = list(french_mobiles(args.baseline, seed=args.seed))
            report["baseline"] = run_baseline(
                servers, numbers, Path(work) / "baseline", timeout=args.timeout
            )
    print_table(report)
    path = Path(args.json) if args.json else RESULTS / f"{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2))
    _say(f"figures written to {path}")
    return report


def print_table(report: dict[str, Any]) -> None:
    groups: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for run in report["runs"]:
        groups.setdefault((run["variant"], run["recipients"]), []).append(run)
    print(
        f"\nDispatcher benchmark, {report['date']}, {report['machine']['cpus']} CPUs, "
        f"{report['machine']['memory_gb']} GB, servers: {report.get('servers')}"
    )
    print("median of runs; times after enqueue returned")
    header = (
        "variant",
        "recipients",
        "runs",
        "enqueue s",
        "submitted s",
        "reported s",
        "enq/s",
        "sub/s",
        "rep/s",
        "stmt/batch",
        "worker MB",
        "HTTP requests",
    )
    rows = [header]
    for (variant, size), runs in sorted(groups.items(), key=lambda g: (g[0][0], g[0][1])):
        med = {
            k: statistics.median(r[k] for r in runs)
            for k in (
                "enqueue_s",
                "submitted_s",
                "reported_s",
                "enqueue_per_s",
                "submit_per_s",
                "report_per_s",
                "statements_per_batch",
            )
        }
        worker_mb = max(
            max(v for k, v in r["peak_rss_mb"].items() if k.startswith("worker")) for r in runs
        )
        requests = ", ".join(
            f"{k.split('.')[-1]} {v}" for k, v in runs[-1]["http_requests"].items()
        )
        rows.append(
            (
                variant,
                f"{size:,}",
                str(len(runs)),
                f"{med['enqueue_s']:.2f}",
                f"{med['submitted_s']:.2f}",
                f"{med['reported_s']:.2f}",
                f"{med['enqueue_per_s']:,.0f}",
                f"{med['submit_per_s']:,.0f}",
                f"{med['report_per_s']:,.0f}",
                f"{med['statements_per_batch']:.1f}",
                f"{worker_mb:.0f}",
                requests,
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    for row in rows:
        print(
            "  ".join(
                cell.rjust(widths[i]) if i else cell.ljust(widths[i]) for i, cell in enumerate(row)
            )
        )
    base = report.get("baseline")
    if base:
        per_s = base["recipients"] / base["reported_s"]
        sent_per_s = base["recipients"] / base["submitted_s"]
        print(
            f"\nbaseline (one Celery task per recipient, {base['concurrency']} processes), "
            f"N={base['recipients']:,}: submitted {sent_per_s:,.0f}/s, reported {per_s:,.0f}/s"
        )
        for (variant, size), runs in sorted(groups.items()):
            if variant != "poll":
                continue  # the callback variant is bounded by the sandbox's callback sender
            rate = statistics.median(
                r["recipients"] / (r["enqueue_s"] + r["reported_s"]) for r in runs
            )
            print(
                f"  {variant} N={size:,}: {rate:,.0f} recipients/s end to end = "
                f"{rate / per_s:,.0f}x the baseline"
            )
    for run in report.get("ingestion") or []:
        killed = " (service killed mid-run)" if run["killed"] else ""
        print(
            f"\ncallback ingestion{killed}: {run['acknowledged']:,} acknowledged in "
            f"{run['seconds']:.1f} s = {run['per_second']:,.0f}/s; {run['recorded']:,} recorded; "
            f"lost {run['lost']}"
        )
    peaks: dict[str, float] = {}
    for run in report["runs"]:
        for name, mb in run["peak_rss_mb"].items():
            peaks[name] = max(peaks.get(name, 0.0), mb)
    print(
        "\npeak RSS (largest process of each role, MB): "
        + ", ".join(f"{k} {v:.0f}" for k, v in sorted(peaks.items()))
    )


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="./dev bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--recipients", default="100000", help="comma-separated campaign sizes")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument(
        "--callbacks",
        action="store_true",
        help="also: a campaign reported by sMsmode callbacks, and callback ingestion",
    )
    parser.add_argument(
        "--callback-recipients",
        type=int,
        default=10_000,
        help="size of the callback campaign (the sandbox sends about 700 callbacks/s)",
    )
    parser.add_argument(
        "--ingestion",
        type=int,
        default=50_000,
        help="callbacks sent straight to the HTTP service",
    )
    parser.add_argument("--baseline", type=int, default=2000, help="baseline size (0: none)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per phase at most")
    parser.add_argument("--redis-db", type=int, default=12, help="the Redis database index to use")
    parser.add_argument("--json", help="where to write the figures")
    return parser.parse_args(argv)


def _say(message: str) -> None:
    print(message, flush=True)


if __name__ == "__main__":
    main()
