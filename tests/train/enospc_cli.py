"""Run the kerasbuild CLI with a disk that fills up: the run-directory writer
(:func:`kerasbuild.fit.files.write_durably`) fails with ENOSPC, after writing half the bytes,
for the ``ENOSPC_SKIP``+1-th file whose name (read back from ``/proc/self/fd``) matches the glob
``ENOSPC_MATCH``. Only the file system write is replaced; Keras and TensorFlow run unchanged.

Usage: ``python tests/train/enospc_cli.py train SPEC --run-dir R`` with the variables set.
"""

from __future__ import annotations

import errno
import fnmatch
import os
import sys

from kerasbuild import cli
from kerasbuild.fit import files

_real_write = files.write_durably
_seen = 0


def _write_until_full(fd: int, data: bytes) -> None:
    global _seen
    name = os.path.basename(os.readlink(f"/proc/self/fd/{fd}"))
    if fnmatch.fnmatch(name, os.environ["ENOSPC_MATCH"]):
        _seen += 1
        if _seen > int(os.environ.get("ENOSPC_SKIP", "0")):
            os.write(fd, data[: len(data) // 2])
            os.close(fd)
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    _real_write(fd, data)


files.write_durably = _write_until_full
sys.argv = ["kerasbuild", *sys.argv[1:]]
cli.main()
