"""``python -m dispatcher.sandbox``: run the sandbox with uvicorn in one process.

Prints ``sandbox listening on http://HOST:PORT`` once it accepts connections (``--port 0``
picks a free port and prints it), and exits with status 0 on SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from types import FrameType

import uvicorn

from dispatcher.sandbox.app import create_app
from dispatcher.sandbox.config import ConfigError, SandboxConfig
from dispatcher.sandbox.faults import FaultRuleError


class _IntentionalDropFilter(logging.Filter):
    """Hide uvicorn's complaint about the responses the accept_then_drop fault cuts short."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "without completing response" not in record.getMessage()


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m dispatcher.sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="default 127.0.0.1 (no admin auth)")
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    parser.add_argument("--config", help="JSON config file (see dispatcher/sandbox/config.py)")
    parser.add_argument("--fast", action="store_true", help="sub-second delivery reports")
    parser.add_argument("--log-level", default="warning")
    return parser.parse_args(argv)


async def _serve(server: uvicorn.Server, host: str) -> None:
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            await task
            raise SystemExit("sandbox failed to start")
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    print(f"sandbox listening on http://{host}:{port}", flush=True)
    await task


def _ignore(signum: int, frame: FrameType | None) -> None:
    """uvicorn re-raises the signal it shut down for; ending normally is the clean exit."""


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit status."""
    args = _parse_args(argv)
    try:
        config = SandboxConfig.from_json_file(args.config) if args.config else SandboxConfig()
        if args.fast:
            config = config.fast()
        app = create_app(config)
    except (ConfigError, FaultRuleError) as exc:
        print(f"invalid sandbox config: {exc}", file=sys.stderr)
        return 2
    logging.getLogger("uvicorn.error").addFilter(_IntentionalDropFilter())
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host=args.host,
            port=args.port,
            access_log=False,
            log_level=args.log_level,
            lifespan="on",
            # Requests held by an accept_then_timeout fault must not delay the exit.
            timeout_graceful_shutdown=2,
        )
    )
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _ignore)
    asyncio.run(_serve(server, args.host))
    return 0


if __name__ == "__main__":
    sys.exit(main())
