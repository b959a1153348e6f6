"""Local HTTP server that speaks SMS providers' documented APIs (see ``app.create_app``).

Used by the demo, the integration tests and the benchmark, and by users rehearsing a
campaign. Each provider emulator is written from the provider's documents alone and shares
no code with the product's adapters, so that a misreading on one side shows up as a
disagreement in the integration tests instead of hiding in shared code.
"""

from dispatcher.sandbox.app import create_app
from dispatcher.sandbox.config import SandboxConfig

__all__ = ["SandboxConfig", "create_app"]
