"""The small HTTP service: producers' API (token-authenticated) and provider callbacks."""
