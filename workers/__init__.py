"""The Celery side: the app, thin tasks and the beat schedule."""
