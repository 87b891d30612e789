"""Build the pinned Pulumi CLI from its Go module (no registry ships the binary here).

The pin lives in one place, the ``pulumi==X`` requirement in pyproject.toml; tools/pulumi-cli/go.mod must
require the same version (checked here and by tests/unit/test_versions.py). The build is skipped when
``.tools/bin/pulumi`` already reports the pinned version, and a ``pulumi`` on PATH at that version is
linked in as is. Otherwise the build is made once per user and kept (``build_key``), then copied in.
Usage: ``python -m tools.build_pulumi_cli``.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from functools import partial
from pathlib import Path

from tools.user_cache import kept_entry, user_cache

ROOT = Path(__file__).resolve().parent.parent
GO_MODULE_DIR = ROOT / "tools" / "pulumi-cli"
BIN_DIR = ROOT / ".tools" / "bin"
CLI_PACKAGE = "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
VERSION_SYMBOL = "github.com/pulumi/pulumi/sdk/v3/go/common/version.Version"


class CliBuildError(RuntimeError):
    pass


def pinned_sdk_version(pyproject: Path = ROOT / "pyproject.toml") -> str:
    deps = tomllib.loads(pyproject.read_text())["project"]["dependencies"]
    for dep in deps:
        match = re.fullmatch(r"pulumi==([0-9][^;\s]*)", dep.strip())
        if match:
            return match.group(1)
    raise CliBuildError("pyproject.toml must pin the Pulumi SDK exactly (pulumi==X.Y.Z)")


def go_module_version(go_mod: Path = GO_MODULE_DIR / "go.mod") -> dict[str, str]:
    """Versions of pulumi's pkg and sdk modules required by the wrapper module."""
    found = dict(re.findall(r"github\.com/pulumi/pulumi/(pkg|sdk)/v3 v([0-9][^\s]*)", go_mod.read_text()))
    return found


def cli_version(binary: Path | str) -> str | None:
    try:
        out = subprocess.run([str(binary), "version"], capture_output=True, text=True, timeout=60, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip().removeprefix("v")


def ensure_cli(bin_dir: Path = BIN_DIR) -> Path:
    version = pinned_sdk_version()
    go_versions = go_module_version()
    drift = {mod: v for mod, v in go_versions.items() if v != version}
    if drift or "pkg" not in go_versions:
        raise CliBuildError(
            f"tools/pulumi-cli/go.mod requires {go_versions} but pyproject.toml pins pulumi=={version}; "
            "update the go.mod (and run `go mod tidy` there) so both name the same version"
        )

    target = bin_dir / "pulumi"
    if cli_version(target) == version:
        return target

    bin_dir.mkdir(parents=True, exist_ok=True)
    on_path = shutil.which("pulumi", path=os.environ.get("PATH", "").replace(str(bin_dir), ""))
    if on_path and cli_version(on_path) == version:
        target.unlink(missing_ok=True)
        target.symlink_to(on_path)
        print(f"pulumi-cli: using {on_path} (v{version})", flush=True)
        return target

    go = shutil.which("go")
    if go is None:
        raise CliBuildError("building the Pulumi CLI needs Go (https://go.dev) on PATH")
    # The build is kept per user (tools/user_cache.py), keyed on all it is made from: a new clone copies it
    # (~0.2 s) where `go build` links the binary again from Go's cache (~9 s here, every clean clone).
    kept = kept_entry(
        user_cache("pulumi-cli") / build_key(go, version), "pulumi", partial(_build, go, version)
    )
    staged = bin_dir / "pulumi.partial"
    shutil.copy2(kept / "pulumi", staged)
    staged.replace(target)
    built = cli_version(target)
    if built != version:
        raise CliBuildError(
            f"the CLI built in {kept} reports {built!r}, expected {version}: remove that folder"
        )
    return target


def _ldflags(version: str) -> str:
    # Same flags as Pulumi's own release build (.goreleaser.yml): stripped, with the version stamped in,
    # because the Automation API refuses a CLI that reports no version.
    return f"-w -s -X {VERSION_SYMBOL}=v{version}"


def build_key(go: str, version: str) -> str:
    """What a build is made from: the module's requirements, the Go toolchain that builds it (as chosen in
    the module's folder), the build's flags and the variables Go reads them from."""
    toolchain = subprocess.run([go, "version"], cwd=GO_MODULE_DIR, capture_output=True, text=True, check=True)
    digest = hashlib.sha256()
    parts = [
        *(path.read_bytes() for path in sorted(GO_MODULE_DIR.iterdir()) if path.is_file()),
        toolchain.stdout.encode(),
        _ldflags(version).encode(),
        CLI_PACKAGE.encode(),
        *(f"{name}={os.environ.get(name, '')}".encode() for name in ("GOFLAGS", "GOOS", "GOARCH")),
    ]
    for part in parts:
        digest.update(hashlib.sha256(part).digest())
    return digest.hexdigest()[:32]


def _build(go: str, version: str, folder: Path) -> None:
    print(
        f"pulumi-cli: building v{version} from the Go module proxy (first time only, several minutes)...",
        flush=True,
    )
    started = time.monotonic()
    binary = folder / "pulumi"
    cmd = [go, "build", "-trimpath", "-ldflags", _ldflags(version), "-o", str(binary), CLI_PACKAGE]
    result = subprocess.run(cmd, cwd=GO_MODULE_DIR, env={**os.environ, "CGO_ENABLED": "0"})
    if result.returncode != 0:
        raise CliBuildError(f"`go build` of the Pulumi CLI failed with exit code {result.returncode}")
    built = cli_version(binary)
    if built != version:
        raise CliBuildError(f"built CLI reports {built!r}, expected {version}")
    size_mb = binary.stat().st_size / 1e6
    print(f"pulumi-cli: built v{version} in {time.monotonic() - started:.0f}s ({size_mb:.0f} MB)", flush=True)


def main() -> int:
    try:
        path = ensure_cli()
    except CliBuildError as exc:
        print(f"pulumi-cli: {exc}", file=sys.stderr)
        return 1
    print(f"pulumi-cli: {path} v{pinned_sdk_version()}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
