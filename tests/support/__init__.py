"""Test helpers: real servers for the test session, and waiting without timed assertions."""
