"""Prometheus metrics: the catalogue (``definitions``), recording helpers that never raise
(``record``), multiprocess files for Celery's pool (``multiprocess``), the scrape-time state
collector (``state``) and the workers' exporter (``exporter``).

Importing this package imports no prometheus_client: a Celery worker must set
``PROMETHEUS_MULTIPROC_DIR`` before the first import (``multiprocess.prepare_worker``).
"""
