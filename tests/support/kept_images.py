"""Disk images made once per user and kept between runs, with the reference tool's hash of each.

A module that checks the service's hash of a 1 GiB disk against ``sha256sum`` of the raw image spent most of
its set-up in ``sha256sum`` reading the gigabyte (~5 CPU-s), every run, for an image made from the same files
by the same tool. The first run makes the image, asks the tool for its hash and keeps both
(``tests/support/user_cache.py``); later runs copy the image (sparse) and read the hash the tool gave for it.
The entry is keyed on everything the image is made from, which the caller passes: the tool's version, its
options, the files. ``mkfs -d`` copies the files' change times into the image, so two images made from the
same files differ: the kept hash is of the kept image, the one every run copies.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from collections.abc import Callable, Iterable
from pathlib import Path

from tools.user_cache import kept_entry, user_cache

IMAGE_FILE = "image"
HASH_FILE = "sha256"


def kept_image(
    folder: Path, made_from: Iterable[bytes], make: Callable[[Path], Path], reference: Callable[[Path], str]
) -> tuple[Path, str]:
    """A copy in ``folder`` of the image ``make`` builds (in the folder it is given), and ``reference``'s hash
    of it: made and hashed on first use for these ``made_from`` parts, then kept."""
    digest = hashlib.sha256()
    for part in made_from:
        digest.update(hashlib.sha256(part).digest())
    entry = user_cache("disk-images") / digest.hexdigest()[:32]

    def make_entry(staging: Path) -> None:
        work = staging / "work"
        work.mkdir()
        make(work).rename(staging / IMAGE_FILE)
        shutil.rmtree(work)
        (staging / HASH_FILE).write_text(reference(staging / IMAGE_FILE))

    kept_entry(entry, HASH_FILE, make_entry)
    copy = folder / "disk.img"
    subprocess.run(["cp", "--sparse=always", str(entry / IMAGE_FILE), str(copy)], check=True)
    return copy, (entry / HASH_FILE).read_text()
