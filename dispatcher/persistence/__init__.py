"""PostgreSQL access: an engine per process, and named set-wise operations per table."""
