"""AWS's managed policies in each emulated account, built from one parse of moto's copy of them per process.

moto gives every account's IAM backend AWS's ~1,600 managed policies (``MOTO_IAM_LOAD_MANAGED_POLICIES``, on
in the suite and ``make run``, as AWS has them): for each account it parsed its 4.7 MB JSON copy again, then
wrote each policy's document back out as JSON text. The local AWS makes an IAM backend for every account a
request names, and in ``make check`` those two steps were about 17 of the local AWS servers' and workers'
sampled CPU-seconds. Here both are done once per process; each account still gets policies of its own (new
``AWSManagedPolicy`` objects, with their own ids and attachment counts), built by moto from the same values.
"""

from __future__ import annotations

import functools
import json
from datetime import datetime
from typing import Any, NamedTuple


class _Values(NamedTuple):
    name: str
    default_version_id: str | None
    path: str | None
    document: str
    create_date: datetime
    update_date: datetime


@functools.cache
def _values() -> tuple[_Values, ...]:
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    parsed: dict[str, dict[str, Any]] = json.loads(aws_managed_policies_data)
    # As moto's AWSManagedPolicy.from_data reads each entry.
    return tuple(
        _Values(
            name,
            data.get("DefaultVersionId"),
            data.get("Path"),
            json.dumps(data.get("Document")),
            datetime.fromisoformat(data["CreateDate"]),
            datetime.fromisoformat(data["UpdateDate"]),
        )
        for name, data in parsed.items()
    )


def account_policies(backend: Any) -> list[Any]:
    """What moto's ``IAMBackend._init_aws_policies`` answers for ``backend``'s account and region."""
    from moto.iam import models
    from moto.settings import load_iam_aws_managed_policies

    if not load_iam_aws_managed_policies():
        return []
    policy: Any = models.AWSManagedPolicy  # moto's classes are abstract to mypy (CloudFormation methods)
    return [
        policy(
            value.name,
            account_id=backend.account_id,
            region=backend.region_name,
            default_version_id=value.default_version_id,
            path=value.path,
            document=value.document,
            create_date=value.create_date,
            update_date=value.update_date,
        )
        for value in _values()
    ]


def install() -> None:
    """Patch moto in this process: each new account's IAM backend takes its managed policies from here."""
    from moto.iam import models

    models.IAMBackend._init_aws_policies = account_policies  # type: ignore[method-assign,assignment]
