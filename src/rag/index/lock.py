"""One update of an index folder at a time, across processes (`rag add`, `rag index`, the web
page's uploads, a stale index rebuilt by `rag ask`).

Two builds at once used to race: the second one's `save_index` removed the first one's build
folder under it (`No such file or directory: …/build-…/vocab.txt`), so one of two `rag add`
runs reported a failure. An advisory lock (`flock`) on `INDEX/update.lock` serialises them: the
second waits, says so in one line, and then finds the corpus with both documents. The kernel
drops the lock when its holder dies (kill -9 included), so a crash never leaves it stuck.
Where `fcntl` does not exist (Windows) updates are not serialised, as before.
"""
from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - not on POSIX
    fcntl = None

#: The lock file inside the index folder (never removed: removing it would let a third update
#: lock a new file while the second still waits on the old one).
LOCK_FILE = "update.lock"


@contextlib.contextmanager
def update_lock(index_dir: Path, log: Callable[[str], None] = print) -> Iterator[None]:
    """Hold the index folder's update lock for the `with` block, waiting (and saying so once)
    while another process or thread holds it."""
    if fcntl is None:
        yield
        return
    index_dir = Path(index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(index_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log("Another update of this index is running; waiting for it to finish.")
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)   # releases the lock
