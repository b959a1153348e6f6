"""``./dev bench``: the dispatcher's speed on this machine, against a per-recipient baseline,
on an empty database and on one holding the history of earlier campaigns.

    ./dev bench                          # 100,000 recipients, 10,000,000 of history, one run
    ./dev bench --recipients 10000,100000,1000000 --history 10000000 --runs 3 --callbacks
    ./dev bench --history 0              # empty database only

Starts everything it measures (PostgreSQL and Redis as the tests find them, the sandbox,
workers per queue, beat, the HTTP service for the callback variant) and stops it all.

History (``--history N``, ops/bench/history.py): loaded once, before any run, into a database
of its own: N recipients in 113 finished campaigns (a few large, many small) written through
the product's enqueue and finished set-wise, then VACUUM ANALYZE (10,000,000: 4.5 minutes on
2 CPUs). Each run of each size is
then measured twice in a row, first on a fresh empty database, then on the history database
(which keeps each measured campaign, so a later run sees a little more history: the table
says how much). The figures are reported side by side with their ratio (history / empty).

Fairness: during each run of the largest size, a 100-recipient campaign is enqueued once 15 %
of the large campaign's batches have been submitted; its time is from its enqueue to its last
batch submitted, by the database's timestamps. Worker RSS: the peak of the largest process of
each worker (pool children included), per run.

Prints a table and writes JSON (``--json``, default ops/bench/results/<time>.json). Fixed seed;
every wait is bounded. A benchmark, not a test: nothing here asserts a duration.
"""

from __future__ import annotations

import argparse
import contextlib
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
from ops.bench.history import history_database
from ops.bench.pipeline import run_pipeline

RESULTS = Path(__file__).parent / "results"
SMALL_CAMPAIGN_AT = 0.15  # share of the largest campaign's batches submitted


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = _arguments(argv)
    configure_logging("WARNING")
    sizes = [int(n) for n in args.recipients.split(",")]
    path = Path(args.json) if args.json else RESULTS / f"{time.strftime('%Y%m%d-%H%M%S')}.json"
    report: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30),
        },
        "runs": [],
        "history": None,
        "baseline": None,
    }
    with (
        tempfile.TemporaryDirectory(prefix="dispatcher-bench-") as work,
        local_servers(Path(work) / "servers", redis_db=args.redis_db) as servers,
        contextlib.ExitStack() as resources,
    ):
        report["servers"] = servers.source
        history_url = None
        if args.history:
            _say(f"loading {args.history:,} recipients of history ...")
            history_url, loaded = resources.enter_context(
                history_database(servers, Path(work) / "history", args.history)
            )
            report["history"] = loaded.as_dict()
            _write(path, report)
            _say(
                f"  history: {loaded.recipients:,} recipients in {loaded.campaigns} campaigns "
                f"in {loaded.seconds:.0f} s (enqueue {loaded.enqueue_s:.0f} s, finish "
                f"{loaded.finish_s:.0f} s, vacuum analyze {loaded.vacuum_analyze_s:.0f} s)"
            )
        plan = [(size, "poll") for size in sizes]
        if args.callbacks:
            plan += [(args.callback_recipients, "callbacks")]
        for size, variant in plan:
            numbers = list(french_mobiles(size, seed=args.seed))
            # Callbacks measure the sandbox's sender more than the database: empty only.
            databases = [None, history_url] if history_url and variant == "poll" else [None]
            small_at = SMALL_CAMPAIGN_AT if variant == "poll" and size == max(sizes) else None
            for run in range(args.runs):
                for url in databases:
                    name = "empty" if url is None else "history"
                    figures = run_pipeline(
                        servers, numbers, Path(work) / f"{size}-{variant}-{name}-{run}",
                        variant=variant, timeout=args.timeout, database_url=url,
                        small_campaign_at=small_at,
                    )  # fmt: skip
                    report["runs"].append(figures.as_dict())
                    _write(path, report)  # so far: a long benchmark stopped keeps its runs
                    small = (
                        f", small campaign {figures.small_campaign_s:.2f} s"
                        if figures.small_campaign_s is not None
                        else ""
                    )
                    _say(
                        f"  {variant} N={size:,} {name} ({figures.history_recipients:,} "
                        f"earlier) run {run + 1}: enqueue {figures.enqueue_s:.2f} s, "
                        f"submitted +{figures.submitted_s:.2f} s, "
                        f"reported +{figures.reported_s:.2f} s{small}, worker "
                        f"{_worker_mb(figures.peak_rss_mb):.0f} MB"
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
            try:
                report["baseline"] = run_baseline(
                    servers, numbers, Path(work) / "baseline", timeout=args.timeout
                )
            except TimeoutError as exc:  # its poll task gives up on a report not yet final
                _say(f"  baseline: no figure ({exc}); the pipeline's figures stand")
    report["summary"] = summarise(report)
    print_table(report)
    _write(path, report)
    _say(f"figures written to {path}")
    return report


def _write(path: Path, report: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2))


FIGURES = ("enqueue_s", "submitted_s", "reported_s", "small_campaign_s")
RATES = ("enqueue_per_s", "submit_per_s", "report_per_s", "statements_per_batch")


def summarise(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Per variant and size: the medians on each database, the largest worker process,
    the ratio history / empty of each time, and the speed against the baseline."""
    groups: dict[tuple[str, int], dict[str, list[dict[str, Any]]]] = {}
    for run in report["runs"]:
        key = (run["variant"], run["recipients"])
        groups.setdefault(key, {}).setdefault(run["database"], []).append(run)
    base = report.get("baseline")
    base_per_s = base["recipients"] / base["reported_s"] if base else None
    summary = []
    for (variant, size), databases in sorted(groups.items()):
        entry: dict[str, Any] = {"variant": variant, "recipients": size}
        for database, runs in databases.items():
            medians: dict[str, Any] = {"runs": len(runs)}
            medians["history_recipients"] = statistics.median(r["history_recipients"] for r in runs)
            for name in FIGURES + RATES:
                values = [r[name] for r in runs if r.get(name) is not None]
                medians[name] = statistics.median(values) if values else None
            medians["worker_rss_mb"] = max(_worker_mb(r["peak_rss_mb"]) for r in runs)
            medians["end_to_end_per_s"] = statistics.median(
                r["recipients"] / (r["enqueue_s"] + r["reported_s"]) for r in runs
            )
            if base_per_s and variant == "poll":
                medians["vs_baseline"] = medians["end_to_end_per_s"] / base_per_s
            entry[database] = medians
        if "empty" in entry and "history" in entry:
            entry["ratio"] = {
                name: entry["history"][name] / entry["empty"][name]
                for name in FIGURES
                if entry["history"][name] is not None and entry["empty"][name]
            }
        summary.append(entry)
    return summary


def print_table(report: dict[str, Any]) -> None:
    summary = report.get("summary") or summarise(report)
    print(
        f"\nDispatcher benchmark, {report['date']}, {report['machine']['cpus']} CPUs, "
        f"{report['machine']['memory_gb']} GB, servers: {report.get('servers')}"
    )
    history = report.get("history")
    if history:
        print(
            f"history: {history['recipients']:,} recipients in {history['campaigns']} finished "
            f"campaigns, loaded in {history['seconds']:.0f} s"
        )
    print(
        "median of runs; times after enqueue returned; small: a 100-recipient campaign "
        "enqueued during the largest, to all submitted; x: history / empty"
    )
    header = (
        "variant",
        "recipients",
        "history",
        "runs",
        "enqueue s",
        "x",
        "submitted s",
        "x",
        "reported s",
        "x",
        "small s",
        "x",
        "end to end/s",
        "vs baseline",
        "stmt/batch",
        "worker MB",
    )
    rows: list[tuple[str, ...]] = [header]
    for entry in summary:
        ratio = entry.get("ratio", {})
        for database in ("empty", "history"):
            med = entry.get(database)
            if med is None:
                continue
            cells: list[str] = [
                entry["variant"],
                f"{entry['recipients']:,}",
                f"{med['history_recipients']:,.0f}",
            ]
            cells.append(str(med["runs"]))
            for name in FIGURES:
                cells.append("-" if med[name] is None else f"{med[name]:.2f}")
                cells.append(
                    f"{ratio[name]:.2f}" if database == "history" and name in ratio else ""
                )
            cells.append(f"{med['end_to_end_per_s']:,.0f}")
            cells.append(f"{med['vs_baseline']:,.0f}x" if med.get("vs_baseline") else "")
            cells.append(f"{med['statements_per_batch']:.1f}")
            cells.append(f"{med['worker_rss_mb']:.0f}")
            rows.append(tuple(cells))
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    for row in rows:
        print(
            "  ".join(
                cell.rjust(widths[i]) if i else cell.ljust(widths[i]) for i, cell in enumerate(row)
            )
        )
    base = report.get("baseline")
    if base:
        submitted, reported = (base["recipients"] / base[k] for k in ("submitted_s", "reported_s"))
        print(
            f"\nbaseline (one Celery task per recipient, {base['concurrency']} processes), "
            f"N={base['recipients']:,}: submitted {submitted:,.0f}/s, reported {reported:,.0f}/s"
        )
    if report["runs"]:
        print(
            "HTTP requests (last run): "
            + ", ".join(
                f"{k.split('.')[-1]} {v}" for k, v in report["runs"][-1]["http_requests"].items()
            )
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


def _worker_mb(peaks: dict[str, float]) -> float:
    return max((mb for name, mb in peaks.items() if name.startswith("worker")), default=0.0)


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="./dev bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--recipients", default="100000", help="comma-separated campaign sizes")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument(
        "--history",
        type=int,
        default=10_000_000,
        help="recipients of earlier, finished campaigns to measure beside (0: empty only)",
    )
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
