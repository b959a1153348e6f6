"""The service layer: plain functions over a unit of work, an adapter and a publisher.

Entry points (Celery tasks, the CLI, the HTTP service) stay thin and call these; the services
commit their own transactions and publish to the broker only after the commit.
"""
