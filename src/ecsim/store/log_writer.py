"""The decision log's writer process, for a SQLite file store.

Written on the event loop, the log cost a show request a fifth of its time (a few microseconds of inserts per
decision, and their pages); a thread of the server gained nothing, because the sqlite3 module hands the GIL back
and forth around every row. A process has an interpreter of its own: the server encodes each flushed batch
(msgpack) and writes it to a pipe, and this process inserts and prunes, and checkpoints the log's WAL on its own
time (SQLite's automatic checkpoint). A read of the log first sends a sync and waits for its answer, so it sees
every decision recorded before it. When the server dies, the pipe's end tells this process to stop.

On the pipe, each frame is a 4-byte big-endian length and a msgpack list of rows; length 0 is a sync, answered
with one byte.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import subprocess
import sys
from collections.abc import Sequence
from typing import Any

import msgspec

_encode = msgspec.msgpack.encode


class LogProcess:
    """The server's end: start the writer, send it batches, wait for it to catch up."""

    batch = 64  # decisions per flush: each flush is one write to the pipe

    def __init__(self, db_path: str, keep: int) -> None:
        # -c, not -m: the package imports this module, and `-m` would run it a second time (with a warning)
        self.proc = subprocess.Popen([sys.executable, "-c", "import sys; from ecsim.store.log_writer import main; "
                                      "main(sys.argv[1], int(sys.argv[2]))", db_path, str(keep)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self._out, self._in = self.proc.stdin.fileno(), self.proc.stdout
        with contextlib.suppress(OSError, AttributeError):  # Linux: room for many batches, so a write never waits
            fcntl.fcntl(self._out, fcntl.F_SETPIPE_SZ, 1 << 20)

    def send(self, rows: Sequence[Sequence[Any]]) -> None:
        payload = _encode(rows)
        self._write(len(payload).to_bytes(4, "big") + payload)

    def sync(self) -> None:
        """Return once every batch sent before is written; OSError when the writer is gone."""
        self._write(bytes(4))
        if self._in.read(1) != b".":
            raise OSError("the decision log's writer process stopped")

    def _write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self._out, view):]

    def close(self) -> None:
        assert self.proc.stdin is not None
        with contextlib.suppress(OSError):
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._in.close()


def main(db_path: str, keep: int) -> None:
    import signal
    import sqlite3

    from ecsim.store.sqlite import write_decisions

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C reaches the whole group: stop at the server's close
    conn = sqlite3.connect(db_path, isolation_level=None, timeout=10.0)
    conn.execute("PRAGMA synchronous=OFF")  # a log, not state: no fsync
    decode = msgspec.msgpack.Decoder(list[tuple]).decode
    inp, out = sys.stdin.buffer, sys.stdout.buffer
    pruned_to = 0
    while len(head := inp.read(4)) == 4:
        size = int.from_bytes(head, "big")
        if size == 0:
            out.write(b".")
            out.flush()
            continue
        rows = decode(inp.read(size))
        try:
            pruned_to = write_decisions(conn, rows, keep, pruned_to)
        except sqlite3.Error as exc:  # a log: a lost batch must not stop the writer
            print(f"ecsim: decision log: {len(rows)} decisions not written: {exc}", file=sys.stderr, flush=True)
    conn.close()
