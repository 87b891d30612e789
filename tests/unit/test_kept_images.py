"""Kept disk images (tests/support/kept_images.py): made and hashed once per key, copied on every use, and a
different key (another tool's version, other files) makes its own."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.kept_images import kept_image


def test_an_image_is_made_and_hashed_once_per_key_and_copied_each_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    made: list[bytes] = []
    hashed: list[Path] = []

    def make(content: bytes) -> Callable[[Path], Path]:
        def build(work: Path) -> Path:
            made.append(content)
            image = work / "made.img"
            image.write_bytes(content)
            return image

        return build

    def reference(path: Path) -> str:
        hashed.append(path)
        return hashlib.sha256(path.read_bytes()).hexdigest()

    first, second, other = (tmp_path / name for name in ("first", "second", "other"))
    for folder in (first, second, other):
        folder.mkdir()
    image, digest = kept_image(first, [b"tool 1.0", b"files"], make(b"disk one"), reference)
    again, same = kept_image(second, [b"tool 1.0", b"files"], make(b"disk two"), reference)
    assert made == [b"disk one"] and len(hashed) == 1
    assert (image.read_bytes(), again.read_bytes()) == (b"disk one", b"disk one")
    assert digest == same == hashlib.sha256(b"disk one").hexdigest()
    assert image.parent == first and again.parent == second

    newer, newer_digest = kept_image(other, [b"tool 1.1", b"files"], make(b"disk three"), reference)
    assert made == [b"disk one", b"disk three"] and newer.read_bytes() == b"disk three"
    assert newer_digest == hashlib.sha256(b"disk three").hexdigest()
