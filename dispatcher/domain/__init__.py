"""Plain-Python domain: statuses, value objects, text and number rules."""
