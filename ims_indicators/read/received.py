"""What counts as a received file: a regular file, never a link, device or pipe, never outside the received tree.

A link placed in a school's folder could point at ``/etc/passwd`` or at someone else's data; a FIFO would block
the reader forever. Such entries are refused with a message and are never opened, read or copied.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from ims_indicators.errors import InputRefused

KINDS = ((stat.S_ISLNK, "a symbolic link"), (stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISCHR, "a character device"),
         (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a folder"))


def unopenable(path: Path, exc: OSError) -> InputRefused:
    """The refusal of a file that is gone or cannot be opened."""
    return InputRefused(path.name, f"the file cannot be opened ({exc.strerror or type(exc).__name__}); expected a "
                                   "readable file")


def check_received(path: Path, tree: Path | None = None) -> None:
    """Refuse ``path`` unless it is a regular file itself (``lstat``: links are not followed) and, when ``tree``
    is given, lies inside it once every link in its folders is resolved."""
    try:
        mode = os.lstat(path).st_mode
    except OSError as exc:
        raise unopenable(path, exc) from None
    if not stat.S_ISREG(mode):
        kind = next((name for test, name in KINDS if test(mode)), "not a regular file")
        raise InputRefused(path.name, f"{path} is {kind}; expected a regular file (links, devices and pipes are "
                                      "never read)")
    if tree is not None and not path.resolve().is_relative_to(tree.resolve()):
        raise InputRefused(path.name, f"{path} lies outside {tree} once its folders' links are resolved; expected "
                                      "files inside the received folder")


def walk_received(root: Path, suffixes: set[str]) -> list[Path]:
    """Every entry under ``root`` a sender could mean as a data file (a name ending in one of ``suffixes``, or any
    link), without following links into other folders; folders and files whose name starts with '.' or '_' are
    skipped. Links, pipes and devices are listed so that they are refused with a message, not skipped in silence."""
    found: list[Path] = []
    for folder, dirs, files in os.walk(root, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith((".", "_")))
        base = Path(folder)
        for name in sorted(files) + [d for d in dirs if (base / d).is_symlink()]:
            entry = base / name
            if name.startswith((".", "_")):
                continue
            if entry.suffix.lower() in suffixes or entry.is_symlink():
                found.append(entry)
        dirs[:] = [d for d in dirs if not (base / d).is_symlink()]
    return found
