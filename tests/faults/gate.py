"""A TCP gate in front of the sandbox, for a provider that refuses connections.

Open, it forwards every connection on its fixed port to the sandbox. Closed, nothing listens
on that port any more, so clients get a real ECONNREFUSED (httpx ``ConnectError``: nothing was
sent, a transient answer), exactly as when a provider's servers are down. Accepting and then
closing would be a different fault (httpx ``RemoteProtocolError``: the outcome is unknown), so
closing never cuts a request half-way: connections idle in a client's pool are hung up at
once, one waiting for its answer right after the answer (the sandbox answers in one piece).
"""

from __future__ import annotations

import contextlib
import socket
import threading

from dispatcher.local.embedded import free_port

_CHUNK = 65536


class _Link:
    """One forwarded connection: the client's socket, the sandbox's, and whether a request
    is waiting for its answer."""

    def __init__(self, client: socket.socket, upstream: socket.socket) -> None:
        self.client, self.upstream = client, upstream
        self.busy = False
        self.closing = False

    def hang_up(self) -> None:
        for sock in (self.client, self.upstream):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()


class Gate:
    """``127.0.0.1:port`` -> ``127.0.0.1:target``; ``close()`` and ``open()`` as often as needed."""

    def __init__(self, target: int, port: int | None = None) -> None:
        self.target = target
        self.port = port or free_port()
        self._listener: socket.socket | None = None
        self._links: set[_Link] = set()
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def open(self) -> None:
        """Listen again on the same port and forward."""
        if self._listener is not None:
            return
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def close(self) -> None:
        """Stop listening, and end every forwarded connection once it is idle."""
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        with self._lock:
            links, self._links = self._links, set()
            for link in links:
                link.closing = True
        for link in links:
            if not link.busy:
                link.hang_up()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:  # closed
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target), timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            link = _Link(client, upstream)
            with self._lock:
                self._links.add(link)
            threading.Thread(target=self._requests, args=(link,), daemon=True).start()
            threading.Thread(target=self._answers, args=(link,), daemon=True).start()

    def _requests(self, link: _Link) -> None:
        try:
            while data := link.client.recv(_CHUNK):
                with self._lock:
                    link.busy = True
                link.upstream.sendall(data)
        except OSError:
            pass
        self._end(link)

    def _answers(self, link: _Link) -> None:
        try:
            while data := link.upstream.recv(_CHUNK):
                link.client.sendall(data)
                with self._lock:
                    link.busy = False
                    if link.closing:
                        break
        except OSError:
            pass
        self._end(link)

    def _end(self, link: _Link) -> None:
        with self._lock:
            self._links.discard(link)
        link.hang_up()
