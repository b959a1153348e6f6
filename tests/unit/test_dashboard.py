"""The Grafana dashboard and Prometheus configuration of ops/monitoring agree with the product:
every query names a metric that dispatcher.metrics.definitions defines, and Prometheus scrapes
the ports and paths the services serve."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from dispatcher.api import metrics as api_metrics
from dispatcher.metrics import definitions

ROOT = Path(__file__).resolve().parents[2]
MONITORING = ROOT / "ops" / "monitoring"
DASHBOARD = MONITORING / "grafana" / "dashboards" / "dispatcher.json"

# PromQL words that are not metric names: aggregation modifiers, binary operators, keywords.
KEYWORDS = {
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "bool",
    "offset",
    "and",
    "or",
    "unless",
    "inf",
    "nan",
    "atan2",
}
# Label lists follow these: ``sum by (account)`` names labels, not metrics.
_LABEL_LISTS = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)")
_STRINGS = re.compile(r"\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'|`[^`]*`")
_MATCHERS = re.compile(r"\{[^{}]*\}")
_RANGES = re.compile(r"\[[^\[\]]*\]")
_IDENTIFIER = re.compile(r"(?<![\w.:$])([A-Za-z_:][A-Za-z0-9_:]*)(\s*\()?")


def metric_names(expr: str) -> set[str]:
    """The metric names an expression reads: identifiers used bare or before ``{`` / ``[``,
    not followed by ``(`` (a function or an aggregation), minus keywords and label lists."""
    text = _STRINGS.sub('""', expr)
    text = _MATCHERS.sub(" ", text)
    text = _RANGES.sub(" ", text)
    text = _LABEL_LISTS.sub(" ", text)
    return {
        name
        for name, call in _IDENTIFIER.findall(text)
        if not call and name.lower() not in KEYWORDS
    }


def exposed_names() -> dict[str, str]:
    """Every series name the product exposes -> its family, from the real metric objects
    (a counter ``x`` is read as ``x_total``, a histogram as ``x_bucket``/``_sum``/``_count``)
    and the state collector's gauges."""
    names: dict[str, str] = {}
    for metric in (*definitions.WORKER_METRICS, *definitions.API_METRICS):
        for family in metric.describe():
            suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count")}
            for suffix in suffixes[family.type]:
                names[family.name + suffix] = family.name
    for name, (kind, _labels, _help) in definitions.STATE_METRICS.items():
        assert kind == "gauge", name
        names[name] = name
    return names


def _panels(panels: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for panel in panels:
        yield panel
        yield from _panels(panel.get("panels", []))


def dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return loaded


def queries() -> list[tuple[str, str]]:
    """(where, PromQL) for every panel target and every templating query."""
    board = dashboard()
    found = [
        (panel["title"], target["expr"])
        for panel in _panels(board["panels"])
        for target in panel.get("targets", [])
    ]
    for variable in board["templating"]["list"]:
        query = variable["query"]["query"]
        inner = re.fullmatch(r"label_values\((.+),\s*\w+\)", query)
        found.append((f"${variable['name']}", inner.group(1) if inner else query))
    return found


@pytest.mark.parametrize(
    ("expr", "names"),
    [
        ("dispatcher_campaigns", {"dispatcher_campaigns"}),
        (
            'histogram_quantile(0.95, sum by (le) (rate(x_bucket{a=~"$a"}[$__rate_interval])))',
            {"x_bucket"},
        ),
        ("sum(a_total) / sum without (job) (b_count offset 5m)", {"a_total", "b_count"}),
        ('sum(g{state="held", q="by (x)"}) or vector(0)', {"g"}),
        ("max(up) > bool 1e3", {"up"}),
    ],
)  # fmt: skip
def test_metric_names_are_read_out_of_promql(expr: str, names: set[str]) -> None:
    assert metric_names(expr) == names


def test_the_dashboard_has_the_agreed_rows() -> None:
    rows = [p["title"] for p in _panels(dashboard()["panels"]) if p["type"] == "row"]
    assert rows == ["Throughput", "Providers", "Reports", "Attention", "Campaigns"]


def test_every_query_names_at_least_one_metric() -> None:
    assert [where for where, expr in queries() if not metric_names(expr)] == []


def test_every_query_names_a_metric_the_product_defines() -> None:
    known = exposed_names()
    unknown = sorted(
        (where, name) for where, expr in queries() for name in metric_names(expr) - set(known)
    )
    assert unknown == []


def test_every_metric_family_of_the_catalogue_is_on_the_dashboard() -> None:
    known = exposed_names()
    shown = {known[n] for _, expr in queries() for n in metric_names(expr) if n in known}
    assert sorted(set(known.values()) - shown) == []


def test_the_dashboard_reads_the_provisioned_datasource() -> None:
    source = yaml.safe_load(
        (MONITORING / "grafana/provisioning/datasources/prometheus.yml").read_text()
    )
    uids = {
        target["datasource"]["uid"]
        for panel in _panels(dashboard()["panels"])
        for target in panel.get("targets", [])
    }
    assert uids == {source["datasources"][0]["uid"]}


def test_the_dashboard_provider_loads_the_directory_compose_mounts() -> None:
    provider = yaml.safe_load(
        (MONITORING / "grafana/provisioning/dashboards/dispatcher.yml").read_text()
    )
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    mounts = dict(v.rsplit(":", 2)[:2] for v in compose["services"]["grafana"]["volumes"])
    assert (
        mounts["./ops/monitoring/grafana/dashboards"] == provider["providers"][0]["options"]["path"]
    )


def _scrape_jobs() -> dict[str, dict[str, Any]]:
    config = yaml.safe_load((MONITORING / "prometheus.yml").read_text())
    return {job["job_name"]: job for job in config["scrape_configs"]}


def test_prometheus_scrapes_the_api_where_it_serves_metrics() -> None:
    job = _scrape_jobs()["dispatcher-api"]
    api = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["api"]
    port = api["command"][api["command"].index("--port") + 1]
    served = [route.path for route in api_metrics.ROUTES]
    assert (job["static_configs"][0]["targets"], job["metrics_path"] in served) == (
        [f"api:{port}"],
        True,
    )


def test_prometheus_scrapes_every_worker_on_the_exporter_port() -> None:
    job = _scrape_jobs()["dispatcher-workers"]["dns_sd_configs"][0]
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    workers = sorted(name for name in compose["services"] if name.startswith("worker-"))
    port = compose["x-settings"]["DISPATCHER_METRICS_PORT"]
    assert (sorted(job["names"]), job["port"]) == (workers, int(port))
