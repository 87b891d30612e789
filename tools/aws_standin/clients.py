"""Provider configuration (the pulumi-aws config keys) and the boto3 clients built from it."""

from __future__ import annotations

import json
import os
import threading
import warnings
from dataclasses import dataclass, field
from typing import Any

import boto3
import botocore.session
from botocore.config import Config
from botocore.loaders import Loader, create_loader
from urllib3.exceptions import InsecureRequestWarning

# With `insecure` set the warning would repeat on every call; the choice was made explicitly in config.
warnings.filterwarnings("ignore", category=InsecureRequestWarning)

# boto3 service name -> the pulumi-aws `endpoints` keys that may configure it (first match wins).
ENDPOINT_KEYS: dict[str, tuple[str, ...]] = {
    "ec2": ("ec2",),
    "s3": ("s3",),
    "iam": ("iam",),
    "kms": ("kms",),
    "sts": ("sts",),
    "ssm": ("ssm",),
    "sns": ("sns",),
    "logs": ("cloudwatchlogs", "logs"),
    "route53resolver": ("route53resolver",),
    "cloudtrail": ("cloudtrail",),
    "config": ("configservice", "config"),
    "events": ("events", "cloudwatchevents"),
    "sqs": ("sqs",),
}

DEFAULT_ACCOUNT = "123456789012"  # moto's account; used only if STS cannot answer


def _verify(insecure: bool) -> bool | None:
    """boto3's ``verify``: off only when the provider config says insecure; otherwise botocore's default,
    which honours AWS_CA_BUNDLE as the real provider's Go SDK does (an explicit True would not)."""
    return False if insecure else None


def _as_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return bool(value)


def _maybe_json(value: Any) -> Any:
    """Stack config may deliver structured values (endpoints, defaultTags) as JSON strings."""
    if isinstance(value, str) and value[:1] in ("[", "{"):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


@dataclass
class AwsConfig:
    region: str = "us-east-1"
    access_key: str | None = None
    secret_key: str | None = None
    token: str | None = None
    profile: str | None = None
    endpoints: dict[str, str] = field(default_factory=dict)
    s3_use_path_style: bool = False
    # pulumi-aws `insecure`: skip TLS certificate checks (the local endpoint's certificate is self-signed).
    insecure: bool = False
    default_tags: dict[str, str] = field(default_factory=dict)
    # pulumi-aws `assumeRoles` (v7; `assumeRole` before): the roles assumed in order, each with the
    # credentials of the one before; every resource call then acts as the last one.
    assume_roles: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def from_provider_config(cls, args: dict[str, Any], variables: dict[str, str] | None = None) -> AwsConfig:
        """Read the pulumi-aws provider config; ``variables`` (``aws:config:<key>``) and env are fallbacks."""
        merged: dict[str, Any] = {}
        for key, value in (variables or {}).items():
            short = key.split(":")[-1]
            merged[short] = value
        merged.update({k: v for k, v in args.items() if v is not None})

        endpoints: dict[str, str] = {}
        raw = _maybe_json(merged.get("endpoints"))
        for entry in raw if isinstance(raw, list) else [raw] if isinstance(raw, dict) else []:
            for service, url in (entry or {}).items():
                if isinstance(url, str) and url:
                    endpoints[service] = url
        roles = _maybe_json(merged.get("assumeRoles")) or _maybe_json(merged.get("assumeRole")) or []
        roles = [roles] if isinstance(roles, dict) else roles
        default_tags = _maybe_json(merged.get("defaultTags")) or {}
        tags = default_tags.get("tags") if isinstance(default_tags, dict) else None
        return cls(
            region=merged.get("region")
            or os.environ.get("AWS_REGION")
            or os.environ.get("AWS_DEFAULT_REGION")
            or "us-east-1",
            access_key=merged.get("accessKey") or os.environ.get("AWS_ACCESS_KEY_ID"),
            secret_key=merged.get("secretKey") or os.environ.get("AWS_SECRET_ACCESS_KEY"),
            token=merged.get("token") or os.environ.get("AWS_SESSION_TOKEN"),
            profile=merged.get("profile") or None,
            endpoints=endpoints,
            s3_use_path_style=_as_bool(merged.get("s3UsePathStyle", False)),
            insecure=_as_bool(merged.get("insecure", False)),
            default_tags={str(k): str(v) for k, v in (tags or {}).items()},
            assume_roles=[r for r in roles if isinstance(r, dict) and r.get("roleArn")],
        )

    def endpoint_for(self, service: str) -> str | None:
        for key in ENDPOINT_KEYS.get(service, (service,)):
            if key in self.endpoints:
                return self.endpoints[key]
        env = os.environ.get(f"AWS_ENDPOINT_URL_{service.upper()}") or os.environ.get("AWS_ENDPOINT_URL")
        return env or None


# One botocore loader per data path for every session of the process: its cache of parsed service models
# (JSON, a large share of a client's cost) is filled once per process, and in the zygote before it forks.
_LOADERS: dict[str | None, Loader] = {}
_SESSION_LOCK = threading.Lock()


def boto3_session(profile: str | None = None) -> boto3.Session:
    """A boto3 session, as ``boto3.Session(profile_name=profile)``, reading models with the shared loader."""
    with _SESSION_LOCK:
        core = botocore.session.Session()
        data_path = core.get_config_variable("data_path")
        if data_path not in _LOADERS:
            _LOADERS[data_path] = create_loader(data_path)
        loader = _LOADERS[data_path]
        core.register_component("data_loader", loader)
        session = boto3.Session(botocore_session=core, profile_name=profile)
        # boto3 adds its own data folder to the loader with every session: once is enough.
        loader.search_paths[:] = list(dict.fromkeys(loader.search_paths))
        return session


class Aws:
    """Lazily built, cached boto3 clients (clients are thread-safe; building them is not)."""

    def __init__(self, config: AwsConfig) -> None:
        self.config = config
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._session: boto3.Session | None = None
        self._account_id: str | None = None
        self._assumed: tuple[str | None, str | None, str | None] | None = None

    @property
    def region(self) -> str:
        return self.config.region

    def client(self, service: str) -> Any:
        with self._lock:
            if service not in self._clients:
                if self._session is None:
                    self._session = boto3_session(self.config.profile)
                cfg = self.config
                endpoint = cfg.endpoint_for(service)
                access, secret, token = self._credentials()
                options: dict[str, Any] = {"retries": {"max_attempts": 3, "mode": "standard"}}
                if service == "s3" and (cfg.s3_use_path_style or endpoint):
                    options["s3"] = {"addressing_style": "path"}
                self._clients[service] = self._session.client(
                    service,
                    region_name=cfg.region,
                    endpoint_url=endpoint,
                    aws_access_key_id=access,
                    aws_secret_access_key=secret,
                    aws_session_token=token,
                    config=Config(**options),
                    verify=_verify(cfg.insecure),
                )
            return self._clients[service]

    def _base_credentials(self) -> tuple[str | None, str | None, str | None]:
        cfg = self.config
        access, secret = cfg.access_key, cfg.secret_key
        assert self._session is not None
        if cfg.endpoints and not access and self._session.get_credentials() is None:
            access, secret = "standin", "standin"  # a local endpoint needs no real credentials
        return access, secret, cfg.token if access == cfg.access_key else None

    def _credentials(self) -> tuple[str | None, str | None, str | None]:
        """The configured credentials, or the last ``assumeRoles`` role's (called with the lock held)."""
        if self._assumed is not None:
            return self._assumed
        access, secret, token = self._base_credentials()
        cfg = self.config
        assert self._session is not None
        for role in cfg.assume_roles:
            sts = self._session.client(
                "sts",
                region_name=cfg.region,
                endpoint_url=cfg.endpoint_for("sts"),
                aws_access_key_id=access,
                aws_secret_access_key=secret,
                aws_session_token=token,
                verify=_verify(cfg.insecure),
            )
            options: dict[str, Any] = {
                "RoleArn": role["roleArn"],
                "RoleSessionName": str(role.get("sessionName") or "pulumi-standin")[:64],
            }
            if role.get("externalId"):
                options["ExternalId"] = role["externalId"]
            if role.get("sourceIdentity"):
                options["SourceIdentity"] = role["sourceIdentity"]
            creds = sts.assume_role(**options)["Credentials"]
            access, secret, token = creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]
        self._assumed = (access, secret, token)
        return self._assumed

    @property
    def account_id(self) -> str:
        if self._account_id is None:
            try:
                self._account_id = str(self.client("sts").get_caller_identity()["Account"])
            except Exception:
                self._account_id = DEFAULT_ACCOUNT
        return self._account_id

    def arn(self, service: str, resource: str, *, region: bool = True, account: bool = True) -> str:
        return ":".join(
            (
                "arn",
                "aws",
                service,
                self.region if region else "",
                self.account_id if account else "",
                resource,
            )
        )
