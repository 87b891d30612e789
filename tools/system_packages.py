"""Install the system (Debian) packages the tests need, which pip cannot provide.

The custody report tests render the PDF to PNG and extract its text with poppler's command-line tools;
the console's browser tests drive headless Chromium through chromedriver; the scale-out tests start real
PostgreSQL (initdb, pg_ctl) and Redis (redis-server) servers. A fresh machine must have them before pytest
runs. ``make setup`` runs this (``python -m tools.system_packages``). As root with apt-get it installs what
is missing; otherwise it prints what to install and exits 0, so setup still completes and the tests that
need the tools fail naming them.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence

# The one list: executable -> the Debian package that ships it. Tests look executables up here too.
REQUIRED: dict[str, str] = {
    "pdftoppm": "poppler-utils",
    "pdftotext": "poppler-utils",
    # The console's browser tests (tests/console) drive headless Chromium through its WebDriver.
    "chromium": "chromium",
    "chromedriver": "chromium-driver",
    # The scale-out tests start real PostgreSQL and Redis servers (tools/local_servers.py).
    "initdb": "postgresql",
    "pg_ctl": "postgresql",
    "postgres": "postgresql",
    "redis-server": "redis-server",
    # Evidence disks: the seeded sample and the tests' images are real file systems, mounted by the mount
    # script on loop devices (util-linux) as the workstation would.
    "mkfs.ext4": "e2fsprogs",
    "mkfs.xfs": "xfsprogs",
    "losetup": "util-linux",
    "unshare": "util-linux",
}

# Debian keeps PostgreSQL's server programs out of PATH, one folder per major version (the newest wins).
_EXTRA_DIRS = ("/usr/lib/postgresql/*/bin",)

# apt-get's complaints when its package lists are absent or stale (a fresh container ships none); only
# then is `apt-get update` worth its time and network.
_STALE_LISTS = ("Unable to locate package", "has no installation candidate", "Failed to fetch")


def _version_key(folder: str) -> tuple[int, ...]:
    digits = [part for part in folder.split("/") if part.replace(".", "").isdigit()]
    return tuple(int(n) for n in digits[0].split(".")) if digits else ()


def locate(name: str) -> str | None:
    """The executable's path: on PATH, else in a distribution folder that is not on PATH."""
    found = shutil.which(name)
    if found:
        return found
    folders = sorted(
        (folder for pattern in _EXTRA_DIRS for folder in glob.glob(pattern)), key=_version_key, reverse=True
    )
    return shutil.which(name, path=os.pathsep.join(folders)) if folders else None


def missing(executables: Sequence[str] = tuple(REQUIRED)) -> list[str]:
    return [name for name in executables if locate(name) is None]


def packages_for(executables: Sequence[str]) -> list[str]:
    return sorted({REQUIRED[name] for name in executables})


def install_hint(executables: Sequence[str]) -> str:
    names = " ".join(packages_for(executables))
    return (
        f"missing {', '.join(executables)}: install with "
        f"`sudo apt-get install -y --no-install-recommends {names}` (Debian/Ubuntu), "
        "or your system's equivalents (poppler utilities, Chromium and its WebDriver, PostgreSQL, Redis), "
        "then rerun `make setup`"
    )


def _apt_get(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    return subprocess.run(["apt-get", *args], capture_output=True, text=True, env=env, check=False)


def _tail(result: subprocess.CompletedProcess[str], lines: int = 15) -> str:
    return "\n".join((result.stdout + result.stderr).strip().splitlines()[-lines:])


def ensure() -> int:
    absent = missing()
    if not absent:
        print(f"system-packages: {', '.join(REQUIRED)} present", flush=True)
        return 0
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        # Not ours to escalate: setup goes on, and the tests needing these fail with the same hint.
        print(f"system-packages: {install_hint(absent)}", flush=True)
        return 0

    packages = packages_for(absent)
    print(f"system-packages: installing {' '.join(packages)} with apt-get...", flush=True)
    install = ("install", "-y", "--no-install-recommends", *packages)
    result = _apt_get(*install)
    if result.returncode != 0 and any(sign in result.stdout + result.stderr for sign in _STALE_LISTS):
        print("system-packages: package lists missing or stale, running apt-get update", flush=True)
        update = _apt_get("update")
        if update.returncode != 0:
            print(f"system-packages: apt-get update failed:\n{_tail(update)}", file=sys.stderr)
            return 1
        result = _apt_get(*install)
    if result.returncode != 0:
        print(f"system-packages: apt-get install failed:\n{_tail(result)}", file=sys.stderr)
        return 1

    still = missing()
    if still:
        print(f"system-packages: installed {packages} but {still} still not on PATH", file=sys.stderr)
        return 1
    print(f"system-packages: installed {' '.join(packages)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(ensure())
