"""moto's server on 127.0.0.1 as a child process: the local AWS for tests and demos.

A separate process (not a thread) so that AWS-side state survives the service or a test worker being killed,
and so moto never competes with the service for one interpreter. It speaks HTTPS with a throwaway
self-signed certificate (``service.local.moto_server``), so clients connect with certificate checks off.
"""

from __future__ import annotations

import os
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
import warnings
from types import TracebackType
from typing import Any

import boto3
from urllib3.exceptions import InsecureRequestWarning

# The local endpoint's certificate is self-signed by design; the warning would only be noise.
warnings.filterwarnings("ignore", category=InsecureRequestWarning)
_UNVERIFIED = ssl._create_unverified_context()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LocalAws:
    """Start with ``with LocalAws() as aws:``; ``aws.endpoint_url`` is what Settings needs."""

    def __init__(self, port: int | None = None, region: str = "us-east-1") -> None:
        self.port = port or free_port()
        self.region = region
        self.endpoint_url = f"https://127.0.0.1:{self.port}"
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> LocalAws:
        env = {
            **os.environ,
            # Managed policies exist in real IAM; the policy pack checks we never attach the admin ones.
            "MOTO_IAM_LOAD_MANAGED_POLICIES": "true",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
        }
        self._proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "service.local.moto_server",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"moto server exited with code {self._proc.returncode}")
            try:
                with urllib.request.urlopen(f"{self.endpoint_url}/moto-api/", timeout=2, context=_UNVERIFIED):
                    return self
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"moto server did not answer on {self.endpoint_url} within {timeout}s")

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
        self._proc = None

    def reset(self) -> None:
        """Forget every AWS resource (moto's own reset API)."""
        req = urllib.request.Request(f"{self.endpoint_url}/moto-api/reset", method="POST")
        with urllib.request.urlopen(req, timeout=10, context=_UNVERIFIED):
            pass

    def client(self, service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.endpoint_url,
            region_name=self.region,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            verify=False,
        )

    def __enter__(self) -> LocalAws:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
