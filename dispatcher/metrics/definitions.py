"""Every metric the product exports, by the names of the agreed catalogue.

Worker-side metrics are plain prometheus-client objects: in a process where
``PROMETHEUS_MULTIPROC_DIR`` is set (see ``dispatcher.metrics.multiprocess``) they write to
memory-mapped files that the workers' exporter merges, so each Celery pool process counts on its
own and nothing is lost when one dies. State-side metrics (``STATE_METRICS``) are not objects
here: the scrape-time collector (``dispatcher.metrics.state``) builds them from PostgreSQL and
Redis under these names, so exactly one place reports them.

Labels never carry credentials, phone numbers or texts: ``account`` is a configured account
name, codes are bounded by ``bounded_code``.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

PREFIX = "dispatcher_"

# Worker side -----------------------------------------------------------------------------

PROVIDER_REQUESTS = Counter(
    "dispatcher_provider_requests_total",
    "Provider requests by operation and the service's outcome word.",
    ["account", "provider", "operation", "outcome"],
)
RECIPIENTS = Counter(
    "dispatcher_recipients_total",
    "Recipients per send outcome (accepted, permanent, transient, unknown).",
    ["account", "outcome"],
)
PROVIDER_ANSWERS = Counter(
    "dispatcher_provider_answers_total",
    "Provider answer codes (HTTP status or documented code; others counted as 'unmapped').",
    ["account", "provider", "code"],
)
BATCH_RETRIES = Counter(
    "dispatcher_batch_retries_total",
    "Batches scheduled to try again, by reason.",
    ["account", "reason"],
)
RATE_LIMIT_WAIT = Histogram(
    "dispatcher_rate_limit_wait_seconds",
    "Time a send waited for a request-rate token.",
    ["account"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)
REPORT_LATENCY = Histogram(
    "dispatcher_report_latency_seconds",
    "From the batch's acceptance to a recipient's final report.",
    ["account", "status"],
    buckets=(1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600, 86400),
)
REPORTS = Counter(
    "dispatcher_reports_total",
    "Final statuses recorded, by where they came from (poll, callback, horizon, operator).",
    ["account", "status", "source"],
)
PROVIDER_REQUEST_SECONDS = Histogram(
    "dispatcher_provider_request_seconds",
    "HTTP time of a provider request.",
    ["account", "provider", "operation"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
TASKS = Counter(
    "dispatcher_tasks_total",
    "Celery tasks by name and short result word.",
    ["task", "result"],
)

# API process -----------------------------------------------------------------------------

CALLBACKS_RECEIVED = Counter(
    "dispatcher_callbacks_received_total",
    "Pushed reports received by the HTTP service, per provider.",
    ["provider"],
)
HTTP_REQUESTS = Counter(
    "dispatcher_http_requests_total",
    "HTTP service requests by route template and status code.",
    ["route", "status"],
)
SCRAPE_ERRORS = Counter(
    "dispatcher_scrape_errors_total",
    "The state collector could not read a source (postgres or redis); the scrape still answers.",
    ["source"],
)

WORKER_METRICS: tuple[Counter | Histogram, ...] = (
    PROVIDER_REQUESTS,
    RECIPIENTS,
    PROVIDER_ANSWERS,
    BATCH_RETRIES,
    RATE_LIMIT_WAIT,
    REPORT_LATENCY,
    REPORTS,
    PROVIDER_REQUEST_SECONDS,
    TASKS,
)
API_METRICS: tuple[Counter, ...] = (CALLBACKS_RECEIVED, HTTP_REQUESTS, SCRAPE_ERRORS)

# State side: name -> (type, labels, help). Built at scrape time by dispatcher.metrics.state.
STATE_METRICS: dict[str, tuple[str, tuple[str, ...], str]] = {
    "dispatcher_campaigns": ("gauge", ("state",), "Campaigns per state (not archived)."),
    "dispatcher_batches": (
        "gauge",
        ("state",),
        "Batches of non-settled campaigns per state, plus held and unknown everywhere.",
    ),
    "dispatcher_stuck_batches": (
        "gauge",
        ("account", "state"),
        "Held and unknown batches per account.",
    ),
    "dispatcher_campaign_recipients": (
        "gauge",
        ("campaign_id", "account", "status"),
        "Recipients per status of each running, paused or needs_attention campaign.",
    ),
    "dispatcher_scheduled_overdue_seconds": (
        "gauge",
        (),
        "Age of the oldest scheduled campaign whose send_at has passed (0 if none).",
    ),
    "dispatcher_queue_depth": ("gauge", ("queue",), "Messages waiting in the broker per queue."),
    "dispatcher_circuit_open": (
        "gauge",
        ("account",),
        "1 when the account's circuit breaker is open, 0.5 half-open, 0 closed.",
    ),
    "dispatcher_callback_inbox_pending": (
        "gauge",
        (),
        "Pushed reports received and not yet applied.",
    ),
}

# Every name of the catalogue as Prometheus exposes it (counters gain ``_total`` in the text
# format; histograms expose _bucket/_sum/_count under the base name).
CATALOGUE: dict[str, str] = {
    "dispatcher_provider_requests_total": "counter",
    "dispatcher_recipients_total": "counter",
    "dispatcher_provider_answers_total": "counter",
    "dispatcher_batch_retries_total": "counter",
    "dispatcher_rate_limit_wait_seconds": "histogram",
    "dispatcher_report_latency_seconds": "histogram",
    "dispatcher_reports_total": "counter",
    "dispatcher_provider_request_seconds": "histogram",
    "dispatcher_tasks_total": "counter",
    "dispatcher_callbacks_received_total": "counter",
    "dispatcher_http_requests_total": "counter",
    "dispatcher_scrape_errors_total": "counter",
    **{name: kind for name, (kind, _labels, _help) in STATE_METRICS.items()},
}
