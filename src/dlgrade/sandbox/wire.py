"""Length-prefixed frames over a Unix stream socket, optionally carrying file descriptors."""

from __future__ import annotations

import array
import json
import select
import socket
import struct
import time
from typing import Any

_LEN = struct.Struct("!Q")
MAX_FRAME = 1 << 31


class WireClosed(EOFError):
    """The peer closed the socket (or died) before a whole frame arrived."""


class WireTimeout(TimeoutError):
    """No whole frame arrived before the deadline."""


def send_frame(sock: socket.socket, payload: bytes, fds: tuple[int, ...] = ()) -> None:
    data = _LEN.pack(len(payload)) + payload
    if fds:
        anc = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds).tobytes())]
        sent = sock.sendmsg([data[:1]], anc)
        data = data[sent:]
    sock.sendall(data)


def send_json(sock: socket.socket, obj: Any, fds: tuple[int, ...] = ()) -> None:
    send_frame(sock, json.dumps(obj).encode(), fds)


def recv_frame(
    sock: socket.socket, deadline: float | None = None, want_fds: bool = False, max_frame: int = MAX_FRAME
) -> tuple[bytes, list[int]]:
    """Read one frame; `deadline` is a time.monotonic() value or None to wait forever."""
    fds: list[int] = []
    if want_fds:
        _wait(sock, deadline)
        msg, anc, _flags, _addr = sock.recvmsg(1, socket.CMSG_SPACE(4 * 4))
        if not msg:
            raise WireClosed("peer closed")
        for level, kind, data in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                arr = array.array("i")
                arr.frombytes(data[: len(data) - len(data) % arr.itemsize])
                fds.extend(arr)
        head = msg + _recv_exact(sock, _LEN.size - 1, deadline)
    else:
        head = _recv_exact(sock, _LEN.size, deadline)
    (n,) = _LEN.unpack(head)
    if n > max_frame:
        raise WireClosed(f"frame of {n} bytes is over the {max_frame}-byte cap")
    return _recv_exact(sock, n, deadline), fds


def recv_json(
    sock: socket.socket, deadline: float | None = None, want_fds: bool = False
) -> tuple[Any, list[int]]:
    payload, fds = recv_frame(sock, deadline, want_fds, max_frame=1 << 20)
    return json.loads(payload), fds


def _wait(sock: socket.socket, deadline: float | None) -> None:
    if deadline is None:
        return
    remaining = deadline - time.monotonic()
    if remaining <= 0 or not select.select([sock], [], [], remaining)[0]:
        raise WireTimeout("no reply in time")


def _recv_exact(sock: socket.socket, n: int, deadline: float | None) -> bytes:
    chunks = bytearray()
    while len(chunks) < n:
        _wait(sock, deadline)
        try:
            chunk = sock.recv(min(n - len(chunks), 1 << 20))
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            raise WireClosed("peer closed")
        chunks += chunk
    return bytes(chunks)
