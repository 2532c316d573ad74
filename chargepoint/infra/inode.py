"""Whether a path still names the file a process opened or made.

A name can be unlinked or pointed at a new file while a descriptor or socket stays open on the
old one; only the device and inode number tell the two apart.
"""

from __future__ import annotations

import os
from pathlib import Path


def still_names(path: Path, made: os.stat_result) -> bool:
    """True while `path` is the file `made` was taken of (False once deleted or replaced)."""
    try:
        return os.path.samestat(os.stat(path), made)
    except FileNotFoundError:
        return False
