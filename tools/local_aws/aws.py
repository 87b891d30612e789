"""moto's server on 127.0.0.1 as a child process: the local AWS for tests and demos.

A separate process (not a thread) so that AWS-side state survives the service or a test worker being killed,
and so moto never competes with the service for one interpreter. It speaks HTTPS with a self-signed
certificate made for this launch and written to ``ca_file`` (``tools.local_aws.tls``): a client given that
file (``FORENSICS_AWS_CA_BUNDLE``, boto3's ``verify=``) verifies the endpoint; the launcher's own set-up
calls and the suite's shared fixtures still connect with checks off.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request
import warnings
from pathlib import Path
from types import TracebackType
from typing import Any

import boto3
from urllib3.exceptions import InsecureRequestWarning

from tools.aws_standin.zygote import StandinZygote
from tools.local_aws import tls
from tools.policy_shim.analyzer import AnalyzerZygote

# The local endpoint's certificate is self-signed by design; the warning would only be noise.
warnings.filterwarnings("ignore", category=InsecureRequestWarning)
_UNVERIFIED = ssl._create_unverified_context()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# The administrator an enforcing local AWS creates for the service (and the tests) while it is still open.
ADMIN_USER = "forensics-local-admin"
ADMIN_POLICY_ARN = "arn:aws:iam::aws:policy/AdministratorAccess"
# The unauthenticated calls of that bootstrap (CreateUser, AttachUserPolicy, CreateAccessKey): moto lets
# exactly this many actions through before it checks anything (it counts actions across the whole server).
_BOOTSTRAP_ACTIONS = 3
# And per member account the administrator is given a way into (AssumeRole into the account, CreateRole,
# AttachRolePolicy): the member-account role AWS Organizations makes in an account it creates.
_MEMBER_ACCOUNT_ACTIONS = 3
# The local AWSs this process started, by endpoint: an operator's step given only a service's settings (the
# suite's seed) finds the administrator of the local AWS they point at here (``LocalAws.started_at``).
_STARTED: dict[str, LocalAws] = {}
# The zygotes' sockets, in the local AWS's own folder.
ZYGOTE_SOCKET = "standin-zygote.sock"
ANALYZER_ZYGOTE_SOCKET = "analyzer-zygote.sock"


class LocalAws:
    """Start with ``with LocalAws() as aws:``; ``aws.endpoint_url`` is what Settings needs, and
    ``aws.access_key_id`` / ``aws.secret_access_key`` the credentials to use (moto's ``testing`` keys unless
    IAM is enforced).

    ``standin_zygote=True`` (``make run``, ``make local-aws``, the benchmark): the stand-in provider's zygote
    starts beside it (``tools.aws_standin.zygote``), its socket ``aws.standin_zygote`` (the service's setting
    of that name), so the engines deploying here fork their provider rather than start it afresh.
    ``analyzer_zygote=True`` likewise starts the policy analyzer's zygote (``tools.policy_shim.analyzer``),
    its socket ``aws.analyzer_zygote`` (the service's setting of that name).

    ``enforce_iam=True``: a local AWS that checks IAM, as ``make run``'s and the suite's shared one do (a
    permission a role lacks fails as AccessDenied). How it works and what it does not judge:

    - The server starts with ``INITIAL_NO_AUTH_ACTION_COUNT=3`` (moto's switch: after that many actions,
      counted across the whole server, every request is authenticated and authorized). Those three are
      ours: ``start`` creates the IAM user ``forensics-local-admin`` with ``AdministratorAccess`` and an
      access key, then checks that the door is shut (moto's ``testing`` keys, which belong to no IAM user,
      now get ``InvalidClientTokenId``). Everything afterwards, seeding and deployments included, must use
      ``access_key_id`` / ``secret_access_key`` (``client`` does). ``reset`` opens the same three-action
      window again (``/moto-api/reset-auth``) and recreates the user, with new keys.
    - ``member_accounts``: other accounts the administrator can enter, as an operator enters the member
      accounts of an organization: each gets ``OrganizationAccountAccessRole`` (``AdministratorAccess``,
      trusting the administrator's account), as Organizations' ``CreateAccount`` makes it
      (``tools.local_aws.organization_accounts``), made in the same unauthenticated window (three actions
      each). For accounts whose id is fixed (the suite's sample affected account); ``CreateAccount``
      chooses ids.
    - Every signed request is checked: the SigV4 signature against the caller's secret, then the caller's
      identity policies (an IAM user's inline, attached and group policies; an assumed role's inline and
      attached policies): an explicit Deny refuses, otherwise an Allow whose Action and Resource match is
      needed. ``sts:AssumeRole`` also needs the target role's trust policy, judged by the launcher with the
      request's context (session tags, source identity, the caller's ARN: ``tools.local_aws.moto_server``).
      S3 checks the object or bucket ARN, as the IAM action S3 uses for the request (the launcher maps legal
      hold, retention, lock and encryption sub-resources to their own actions); bucket policies are judged
      as without enforcement (object requests only).
    - Not judged: conditions in identity policies (moto has no request context for them: a conditional
      Allow such as ``s3:prefix`` on ListBucket or ``ssm:SessionDocumentAccessCheck`` applies
      unconditionally, as if its condition held); resources for services that do not name one (KMS, SSM,
      EC2...: moto checks them against ``*``, so an Allow scoped to an ARN never grants them and only
      ``Resource: "*"`` does); KMS key policies (moto reads them only for DescribeKey, refused on any Deny
      naming it, principal and conditions ignored) and KMS permissions behind S3 (reading an SSE-KMS object
      needs no ``kms:Decrypt``: moto's S3 never calls KMS); MFA (no session is ever MFA-authenticated, so
      ``aws:MultiFactorAuthPresent`` is absent); permission boundaries, SCPs and session policies; the
      identity side of ``sts:TagSession`` / ``sts:SetSourceIdentity``; trust for a role in another account
      (moto looks the role up in the caller's account and skips the trust check when it is not there).
    """

    def __init__(
        self,
        port: int | None = None,
        region: str = "us-east-1",
        enforce_iam: bool = False,
        tls_dir: Path | None = None,
        member_accounts: tuple[str, ...] = (),
        standin_zygote: bool = False,
        analyzer_zygote: bool = False,
    ) -> None:
        self.port = port or free_port()
        # The certificate's folder: given (it outlives the launcher), or a private one removed at stop.
        self._own_tls_dir = tls_dir is None
        self.tls_dir = tls_dir or Path(tempfile.mkdtemp(prefix="forensics-local-aws-"))
        self.ca_file = self.tls_dir / tls.CERT_FILE
        self.region = region
        self.enforce_iam = enforce_iam
        self.member_accounts = member_accounts
        self.endpoint_url = f"https://127.0.0.1:{self.port}"
        # The same AWS over plain HTTP on loopback, for the Pulumi CLI's S3 state backend.
        self.plain_port = free_port()
        self.plain_endpoint_url = f"http://127.0.0.1:{self.plain_port}"
        self.access_key_id = "testing"
        self.secret_access_key = "testing"
        self.admin_arn: str | None = None
        # The keys of the service's own identity, once one is made here (``tools.local_aws.service_user``):
        # what the suite's service acts as, and assumes the service's roles with.
        self.service_credentials: tuple[str, str] | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        # The stand-in provider's zygote for the engines deploying here (``tools.aws_standin.zygote``), when
        # asked for: its socket is ``standin_zygote`` (a setting of the service, ``standin_zygote``).
        self._want_zygote = standin_zygote
        self._zygote: StandinZygote | None = None
        self.standin_zygote: Path | None = None
        # The policy analyzer's zygote likewise (``tools.policy_shim.analyzer``, setting analyzer_zygote).
        self._want_analyzer_zygote = analyzer_zygote
        self._analyzer_zygote: AnalyzerZygote | None = None
        self.analyzer_zygote: Path | None = None

    def start(self, timeout: float = 60.0) -> LocalAws:
        env = {
            **os.environ,
            # Managed policies exist in real IAM; the policy pack checks we never attach the admin ones.
            "MOTO_IAM_LOAD_MANAGED_POLICIES": "true",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
        }
        command = [
            sys.executable,
            "-m",
            "tools.local_aws.moto_server",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--plain-http-port",
            str(self.plain_port),
        ]
        certificate = tls.write_self_signed(self.tls_dir)
        command += ["--ssl-cert", str(certificate.cert), "--ssl-key", str(certificate.key)]
        if self.enforce_iam:
            env["INITIAL_NO_AUTH_ACTION_COUNT"] = str(self._open_actions)
            command.append("--enforce-iam")
        self._proc = subprocess.Popen(
            command,
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
                    pass
            except OSError:
                time.sleep(0.2)
                continue
            if self.enforce_iam:
                try:
                    self._bootstrap_admin()
                except BaseException:
                    self.stop()
                    raise
            if self._want_zygote:
                self._start_zygote()
            if self._want_analyzer_zygote:
                self._start_analyzer_zygote()
            _STARTED[self.endpoint_url] = self
            return self
        self.stop()
        raise RuntimeError(f"moto server did not answer on {self.endpoint_url} within {timeout}s")

    @property
    def _open_actions(self) -> int:
        return _BOOTSTRAP_ACTIONS + _MEMBER_ACCOUNT_ACTIONS * len(self.member_accounts)

    def _bootstrap_admin(self) -> None:
        """The enforcing server's first (and only unauthenticated) actions: the service's administrator,
        and its way into each member account."""
        from botocore.exceptions import ClientError

        iam = self._client("iam", "testing", "testing")
        self.admin_arn = str(iam.create_user(UserName=ADMIN_USER)["User"]["Arn"])
        iam.attach_user_policy(UserName=ADMIN_USER, PolicyArn=ADMIN_POLICY_ARN)
        key = iam.create_access_key(UserName=ADMIN_USER)["AccessKey"]
        self.access_key_id, self.secret_access_key = key["AccessKeyId"], key["SecretAccessKey"]
        for account_id in self.member_accounts:
            self._member_account_role(account_id, self.admin_arn.split(":")[4])
        try:
            iam.get_user(UserName=ADMIN_USER)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "InvalidClientTokenId":
                raise
        else:
            raise RuntimeError("the local AWS does not enforce IAM: moto's testing keys are still accepted")
        caller = self.client("sts").get_caller_identity()["Arn"]
        if caller != self.admin_arn:
            raise RuntimeError(f"the local AWS administrator is {caller}, expected {self.admin_arn}")

    def _member_account_role(self, account_id: str, management_account: str) -> None:
        """``OrganizationAccountAccessRole`` in ``account_id``, trusting ``management_account`` (moto's
        credentials for a role ARN act in that role's account; the window does not judge them)."""
        from tools.local_aws.organization_accounts import ADMINISTRATOR_ACCESS, MEMBER_ROLE_NAME

        role_arn = f"arn:aws:iam::{account_id}:role/{MEMBER_ROLE_NAME}"
        creds = self._client("sts", "testing", "testing").assume_role(
            RoleArn=role_arn, RoleSessionName="member-account-setup"
        )["Credentials"]
        iam = boto3.client(
            "iam",
            endpoint_url=self.endpoint_url,
            region_name=self.region,
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
            verify=False,
        )
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{management_account}:root"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
        iam.create_role(RoleName=MEMBER_ROLE_NAME, AssumeRolePolicyDocument=json.dumps(trust))
        iam.attach_role_policy(RoleName=MEMBER_ROLE_NAME, PolicyArn=ADMINISTRATOR_ACCESS)

    def member_role_arn(self, account_id: str) -> str:
        """The administrator's way into a member account (``member_accounts``)."""
        from tools.local_aws.organization_accounts import MEMBER_ROLE_NAME

        return f"arn:aws:iam::{account_id}:role/{MEMBER_ROLE_NAME}"

    @staticmethod
    def started_at(endpoint_url: str | None) -> LocalAws | None:
        """The running local AWS this process started at ``endpoint_url``, if any."""
        return _STARTED.get(endpoint_url or "")

    def _start_zygote(self) -> None:
        """The stand-in zygote beside this local AWS. One that cannot start (a socket path too long for
        AF_UNIX, say) costs speed, never a deployment: the engine's launcher starts the stand-in itself."""
        path = self.tls_dir / ZYGOTE_SOCKET
        try:
            self._zygote = StandinZygote(path).start()
        except (OSError, RuntimeError) as exc:
            logging.getLogger(__name__).warning("no stand-in zygote (%s): providers start afresh", exc)
            return
        self.standin_zygote = path

    def _start_analyzer_zygote(self) -> None:
        """The policy analyzer's zygote beside this local AWS; one that cannot start costs speed only: the
        policy shim's launcher starts the analyzer itself."""
        path = self.tls_dir / ANALYZER_ZYGOTE_SOCKET
        try:
            self._analyzer_zygote = AnalyzerZygote(path).start()
        except (OSError, RuntimeError) as exc:
            logging.getLogger(__name__).warning("no analyzer zygote (%s): analyzers start afresh", exc)
            return
        self.analyzer_zygote = path

    @property
    def zygote_pids(self) -> list[int]:
        """The zygotes' process ids (the benchmark reads their CPU time: every engine pass's provider and
        analyzer is a child of one)."""
        return [z.pid for z in (self._zygote, self._analyzer_zygote) if z is not None]

    @property
    def zygote_pid(self) -> int | None:
        """The stand-in zygote's process id, if one runs (the benchmark reads its CPU time: every engine
        pass's provider is its child)."""
        return self._zygote.pid if self._zygote is not None else None

    def stop(self) -> None:
        _STARTED.pop(self.endpoint_url, None)
        if self._zygote is not None:
            self._zygote.stop()
            self._zygote = None
            self.standin_zygote = None
        if self._analyzer_zygote is not None:
            self._analyzer_zygote.stop()
            self._analyzer_zygote = None
            self.analyzer_zygote = None
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
        self._proc = None
        (self.tls_dir / tls.KEY_FILE).unlink(missing_ok=True)
        if self._own_tls_dir:
            shutil.rmtree(self.tls_dir, ignore_errors=True)

    def reset(self) -> None:
        """Forget every AWS resource (moto's own reset API). Enforcing: the administrator too, so it is
        created again (new keys) in a new window of unauthenticated actions."""
        req = urllib.request.Request(f"{self.endpoint_url}/moto-api/reset", method="POST")
        with urllib.request.urlopen(req, timeout=10, context=_UNVERIFIED):
            pass
        if self.enforce_iam:
            req = urllib.request.Request(
                f"{self.endpoint_url}/moto-api/reset-auth",
                data=str(self._open_actions).encode(),
                headers={"Content-Type": "text/plain"},
                method="POST",
            )
            with urllib.request.urlopen(req, timeout=10, context=_UNVERIFIED):
                pass
            self._bootstrap_admin()

    @property
    def pid(self) -> int:
        """The server's process id (the benchmark reads its CPU time)."""
        if self._proc is None:
            raise RuntimeError("the local AWS is not running")
        return self._proc.pid

    def client(self, service: str) -> Any:
        return self._client(service, self.access_key_id, self.secret_access_key)

    def _client(self, service: str, access_key_id: str, secret_access_key: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.endpoint_url,
            region_name=self.region,
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            verify=False,
        )

    def state_backend_url(self, bucket: str) -> str:
        """A Pulumi DIY state backend in ``bucket`` (created here if missing) of the local AWS, reached over
        the plain-HTTP loopback listener: several service nodes share stacks and Pulumi's stack locks
        (``.pulumi/locks/...`` objects) through it, as they would through a real S3 bucket."""
        s3 = self.client("s3")
        if bucket not in {b["Name"] for b in s3.list_buckets().get("Buckets", [])}:
            s3.create_bucket(Bucket=bucket)
        return (
            f"s3://{bucket}?endpoint={self.plain_endpoint_url.removeprefix('http://')}"
            f"&disableSSL=true&s3ForcePathStyle=true&region={self.region}"
        )

    def __enter__(self) -> LocalAws:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
