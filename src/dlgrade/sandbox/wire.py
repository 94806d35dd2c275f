"""Length-prefixed frames over a Unix stream socket, optionally carrying file descriptors.

A frame's length is checked against the reader's cap before anything is allocated; the frame
is then read into one bytearray, which the reader owns (the decoder makes views of it).
"""

from __future__ import annotations

import array
import json
import select
import socket
import struct
import time
from typing import Any

_LEN = struct.Struct("!Q")
MAX_FRAME = 1 << 28  # dlgrade.core.plain.MAX_BYTES (this module does not import torch)


class WireClosed(EOFError):
    """The peer closed the socket (or died) before a whole frame arrived."""


class FrameTooLarge(WireClosed):
    """The peer announced a frame over the reader's cap; nothing of it was read."""

    def __init__(self, size: int, cap: int) -> None:
        super().__init__(f"a frame of {size} bytes, over the {cap}-byte cap")
        self.size, self.cap = size, cap


class WireTimeout(TimeoutError):
    """No whole frame arrived before the deadline."""


def framed(payload: bytes) -> bytes:
    """`payload` as one frame on the wire: its length, then itself."""
    return _LEN.pack(len(payload)) + payload


def send_frame(sock: socket.socket, payload: bytes, fds: tuple[int, ...] = ()) -> None:
    data = framed(payload)
    if fds:
        anc = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds).tobytes())]
        sent = sock.sendmsg([data[:1]], anc)
        data = data[sent:]
    sock.sendall(data)


def send_json(sock: socket.socket, obj: Any, fds: tuple[int, ...] = ()) -> None:
    send_frame(sock, json.dumps(obj).encode(), fds)


def recv_frame(
    sock: socket.socket, deadline: float | None = None, want_fds: bool = False, max_frame: int = MAX_FRAME
) -> tuple[bytearray, list[int]]:
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
        head = bytes(msg + _recv_exact(sock, _LEN.size - 1, deadline))
    else:
        head = bytes(_recv_exact(sock, _LEN.size, deadline))
    (n,) = _LEN.unpack(head)
    if n > max_frame:
        raise FrameTooLarge(n, max_frame)
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


def _recv_exact(sock: socket.socket, n: int, deadline: float | None) -> bytearray:
    buf = bytearray(n)
    view, got = memoryview(buf), 0
    while got < n:
        _wait(sock, deadline)
        try:
            k = sock.recv_into(view[got:], min(n - got, 1 << 20))
        except ConnectionResetError:
            k = 0
        if not k:
            raise WireClosed("peer closed")
        got += k
    view.release()
    return buf
