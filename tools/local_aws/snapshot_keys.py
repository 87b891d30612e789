"""Encrypted EBS snapshots in the local AWS, judged by their KMS key as AWS judges them (``install``).

moto shares, copies and reads an encrypted snapshot as if it were not encrypted: its KMS key is never
consulted. On AWS the key decides:

- a snapshot taken of an encrypted volume is under the volume's key (moto recorded no key), and one started
  through the EBS direct APIs with ``Encrypted`` under ``KmsKeyArn`` or the default key (moto made it plain);
- a snapshot under the AWS managed key ``aws/ebs`` cannot be shared (ModifySnapshotAttribute adding
  createVolumePermission answers ``InvalidParameter``): its key policy admits only its own account, through
  EC2, and nobody can change that policy. The default key the local AWS makes for an account is therefore an
  AWS managed key with that policy (moto made a customer key open to the whole account);
- another account may copy (CopySnapshot) or create a volume from (CreateVolume) a snapshot shared with it
  only if the snapshot's key lets that account use it: ``kms:DescribeKey``, ``kms:CreateGrant``,
  ``kms:Decrypt`` (and ``kms:ReEncryptFrom`` for a copy) through ``ec2.<region>.amazonaws.com``, by the key
  policy or by a grant whose grantee is the caller or its account;
- the EBS direct read APIs (ListSnapshotBlocks, GetSnapshotBlock, ListChangedBlocks) of an encrypted
  snapshot need ``kms:Decrypt`` on its key for the caller, through ``ec2.<region>.amazonaws.com``: EBS
  direct reads work on snapshots under ``aws/ebs``, whose policy admits only ``kms:ViaService`` EC2, so EBS
  presents itself to KMS as EC2 (inferred from those two documented facts; no AWS page states the value).

A key policy statement naming an account (its root or its id) delegates to that account's identity policies;
the local AWS does not check KMS actions against identity policies, so such a statement admits the account's
callers. Conditions are judged with ``kms:CallerAccount``, ``kms:ViaService``, ``aws:PrincipalArn``,
``aws:PrincipalAccount`` and the request's time.
"""

from __future__ import annotations

import contextvars
import json
import re
from typing import Any, cast

from tools.local_aws.moto_server import (
    _ACCESS_KEY,
    current_time_context,
    ebs_error,
    principal_arn,
    trust_permits,
)

AWS_MANAGED_EBS_ALIAS = "alias/aws/ebs"
# What EC2 asks of the source key on the caller's behalf (the AWS guide "Share a KMS key" lists these).
COPY_KEY_ACTIONS = ("kms:DescribeKey", "kms:CreateGrant", "kms:Decrypt", "kms:ReEncryptFrom")
VOLUME_KEY_ACTIONS = ("kms:DescribeKey", "kms:CreateGrant", "kms:Decrypt")
READ_KEY_ACTIONS = ("kms:Decrypt",)
SHARE_REFUSAL = "Snapshots encrypted with the AWS Managed CMK can't be shared. Specify another snapshot."

_KEY_ARN = re.compile(r"^arn:aws[a-z-]*:kms:([a-z0-9-]+):([0-9]{12}):key/(.+)$")
# The current request's access key id and account; its principal is looked up only when a key is judged.
_caller: contextvars.ContextVar[tuple[str, str] | None] = contextvars.ContextVar(
    "snapshot_keys_caller", default=None
)


def _caller_arn() -> str | None:
    found = _caller.get()
    return principal_arn(*found) if found else None


def aws_managed_ebs_policy(account_id: str, region: str) -> str:
    """The key policy AWS gives an account's ``aws/ebs`` key: use by the account's own principals, through
    EC2 only, and description by them."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Id": "auto-ebs-2",
            "Statement": [
                {
                    "Sid": "Allow access through EBS for all principals in the account that are authorized",
                    "Effect": "Allow",
                    "Principal": {"AWS": "*"},
                    "Action": [
                        "kms:Encrypt",
                        "kms:Decrypt",
                        "kms:ReEncrypt*",
                        "kms:GenerateDataKey*",
                        "kms:CreateGrant",
                        "kms:DescribeKey",
                    ],
                    "Resource": "*",
                    "Condition": {
                        "StringEquals": {
                            "kms:CallerAccount": account_id,
                            "kms:ViaService": f"ec2.{region}.amazonaws.com",
                        }
                    },
                },
                {
                    "Sid": "Allow direct access to key metadata to the account",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"},
                    "Action": ["kms:Describe*", "kms:Get*", "kms:List*"],
                    "Resource": "*",
                },
            ],
        }
    )


def find_key(key_ref: str | None, account_id: str, region: str) -> Any | None:
    """The moto key a snapshot's KmsKeyId names (an ARN, or an id in the snapshot's own account)."""
    from moto.kms.models import kms_backends

    if not key_ref:
        return None
    match = _KEY_ARN.match(key_ref)
    if match:
        region, account_id, key_ref = match.group(1), match.group(2), match.group(3)
    backend = dict.get(dict.get(kms_backends, account_id) or {}, region)
    if backend is None:
        return None
    return backend.keys.get(key_ref)


def is_aws_managed_ebs_key(key: Any) -> bool:
    return bool(key.key_manager == "AWS" or AWS_MANAGED_EBS_ALIAS in getattr(key, "aliases", {}))


def key_permits(key: Any, action: str, caller_account: str, caller: str | None, via_service: str) -> bool:
    """Whether ``caller`` (an ARN, or None: known only by account) may perform ``action`` with ``key``
    through ``via_service``: a grant naming the caller or its account, or the key policy."""
    if key is None or key.key_state != "Enabled":
        return False
    grantees = {caller_account, f"arn:aws:iam::{caller_account}:root"} | ({caller} if caller else set())
    operation = action.split(":", 1)[1]
    for grant in key.grants.values():
        if grant.grantee_principal in grantees and operation in grant.operations:
            return True
    context = {
        "kms:CallerAccount": caller_account,
        "kms:ViaService": via_service,
        "aws:PrincipalAccount": caller_account,
        **({"aws:PrincipalArn": caller} if caller else {}),
        **current_time_context(),
    }
    return trust_permits(key.policy or "{}", action, {caller} if caller else set(), caller_account, context)


def key_refusal(snapshot: Any, caller_account: str, actions: tuple[str, ...], via_service: str) -> str | None:
    """Why ``caller_account`` (the current request's caller) cannot use the snapshot's key for ``actions``;
    None when it can, or when the snapshot is not encrypted."""
    if not snapshot.encrypted:
        return None
    owner = snapshot.ec2_backend
    key = find_key(snapshot.kms_key_id, owner.account_id, owner.region_name)
    if key is None:
        return f"the KMS key {snapshot.kms_key_id} of snapshot {snapshot.id} does not exist"
    caller = _caller_arn()
    missing = [a for a in actions if not key_permits(key, a, caller_account, caller, via_service)]
    if not missing:
        return None
    who = caller or f"account {caller_account}"
    return (
        f"{who} cannot use the KMS key {key.arn} of snapshot {snapshot.id}: "
        f"{', '.join(missing)} not allowed by its key policy or grants"
    )


def install() -> None:
    """Patch moto (idempotent): the caller of every request is remembered for the key checks; sharing,
    copying, creating volumes from and reading encrypted snapshots consult their keys (module docstring)."""
    from moto.core.responses import BaseResponse
    from moto.ebs.responses import EBSResponse
    from moto.ec2.exceptions import EC2ClientError
    from moto.ec2.models.elastic_block_store import EBSBackend as Ec2Storage

    if getattr(Ec2Storage, "_snapshot_keys", False):
        return
    Ec2Storage._snapshot_keys = True  # type: ignore[attr-defined]

    call_action = BaseResponse.call_action

    def remembering_caller(self: Any) -> Any:
        match = _ACCESS_KEY.search(self.headers.get("Authorization", "") if self.headers else "")
        token = _caller.set((match.group(1), self.current_account) if match else None)
        try:
            return call_action(self)
        finally:
            _caller.reset(token)

    BaseResponse.call_action = remembering_caller  # type: ignore[method-assign]

    def refused(code: str, message: str) -> Exception:
        return EC2ClientError(code, message)

    # A snapshot is under its volume's key (moto kept the volume's Encrypted flag but dropped its key).
    create_snapshot = Ec2Storage.create_snapshot

    def create_snapshot_under_volume_key(self: Any, volume_id: str, *args: Any, **kwargs: Any) -> Any:
        snapshot = create_snapshot(self, volume_id, *args, **kwargs)
        if snapshot.encrypted and not snapshot.kms_key_id:
            snapshot.kms_key_id = self.get_volume(volume_id).kms_key_id
        return snapshot

    Ec2Storage.create_snapshot = create_snapshot_under_volume_key  # type: ignore[method-assign]

    # The account's default EBS key is AWS managed, with the policy AWS gives it.
    create_default_key = Ec2Storage._create_default_encryption_key

    def create_aws_managed_key(self: Any) -> str:
        arn = str(create_default_key(self))
        key = find_key(arn, self.account_id, self.region_name)
        if key is not None and key.key_manager != "AWS":
            key.key_manager = "AWS"
            key.policy = aws_managed_ebs_policy(self.account_id, self.region_name)
        return arn

    Ec2Storage._create_default_encryption_key = create_aws_managed_key  # type: ignore[method-assign]

    add_permission = Ec2Storage.add_create_volume_permission

    def add_create_volume_permission(
        self: Any, snapshot_id: str, user_ids: list[str], groups: list[str]
    ) -> None:
        snapshot = self.get_snapshot(snapshot_id)
        if snapshot.encrypted and (user_ids or groups):
            key = find_key(snapshot.kms_key_id, self.account_id, self.region_name)
            if key is None:
                raise refused("InvalidParameter", f"The KMS key {snapshot.kms_key_id} does not exist.")
            if is_aws_managed_ebs_key(key):
                raise refused("InvalidParameter", SHARE_REFUSAL)
            if groups:
                raise refused("InvalidParameter", "Encrypted snapshots cannot be made public.")
        add_permission(self, snapshot_id, user_ids, groups)

    Ec2Storage.add_create_volume_permission = add_create_volume_permission  # type: ignore[method-assign]

    copy_snapshot: Any = Ec2Storage.copy_snapshot  # patch_ebs's, which takes ``encrypted``

    def copy_checking_key(
        self: Any,
        source_snapshot_id: str,
        source_region: str,
        description: str,
        kms_key_id: str | None,
        encrypted: bool = False,
    ) -> Any:
        from tools.local_aws.moto_server import find_snapshot

        source = find_snapshot(source_snapshot_id, source_region)
        if source is not None and source.owner_id != self.account_id:
            reason = key_refusal(
                source, self.account_id, COPY_KEY_ACTIONS, f"ec2.{self.region_name}.amazonaws.com"
            )
            if reason:
                raise refused("InvalidParameterValue", f"Given key ID is not accessible: {reason}")
        return copy_snapshot(self, source_snapshot_id, source_region, description, kms_key_id, encrypted)

    Ec2Storage.copy_snapshot = copy_checking_key  # type: ignore[method-assign]

    create_volume = Ec2Storage.create_volume

    def create_volume_checking_key(
        self: Any, size: int | None, zone_name: str, snapshot_id: str | None = None, **options: Any
    ) -> Any:
        from tools.local_aws.moto_server import find_snapshot

        if snapshot_id and snapshot_id not in self.snapshots:
            shared = find_snapshot(snapshot_id, self.region_name)
            if shared is not None and shared.owner_id != self.account_id:
                reason = key_refusal(
                    shared, self.account_id, VOLUME_KEY_ACTIONS, f"ec2.{self.region_name}.amazonaws.com"
                )
                if reason:
                    raise refused("InvalidParameterValue", f"Given key ID is not accessible: {reason}")
        return create_volume(self, size, zone_name, snapshot_id, **options)  # type: ignore[arg-type]

    Ec2Storage.create_volume = create_volume_checking_key  # type: ignore[method-assign,assignment]

    # StartSnapshot's Encrypted/KmsKeyArn (moto ignored them: an "encrypted" snapshot came out plain). A
    # snapshot with a parent keeps the parent's key (patch_ebs); without one it is under KmsKeyArn or, when
    # only Encrypted is given, the account's default EBS key.
    start_snapshot = EBSResponse.start_snapshot

    def start_encrypted(self: Any) -> Any:
        encrypted = str(self._get_param("Encrypted")).lower() == "true"
        key_arn = self._get_param("KmsKeyArn")
        if key_arn and not encrypted:
            raise ebs_error(
                "ValidationException", "KmsKeyArn requires Encrypted to be true.", "INVALID_PARAMETER_VALUE"
            )
        storage = self.ebs_backend.ec2_backend
        if key_arn and find_key(key_arn, storage.account_id, storage.region_name) is None:
            raise ebs_error("ValidationException", f"The KMS key {key_arn} does not exist.")
        result = start_snapshot(self)
        answer = cast(dict[str, Any], result.result)
        snapshot = storage.snapshots[answer["SnapshotId"]]
        if encrypted and not snapshot.encrypted:
            snapshot.encrypted = True
            snapshot.kms_key_id = (
                key_arn or storage.default_kms_key_id or storage._create_default_encryption_key()
            )
        if snapshot.encrypted:
            answer["KmsKeyArn"] = snapshot.kms_key_id
        return result

    EBSResponse.start_snapshot = start_encrypted  # type: ignore[method-assign]

    def reading(name: str, param: str) -> None:
        original = getattr(EBSResponse, name)

        def checked(self: Any, _original: Any = original) -> Any:
            snapshot_id = self._get_param(param)
            backend = self.ebs_backend.ec2_backend
            snapshot = backend.snapshots.get(snapshot_id) if snapshot_id else None
            if snapshot is not None:
                reason = key_refusal(
                    snapshot, backend.account_id, READ_KEY_ACTIONS, f"ec2.{backend.region_name}.amazonaws.com"
                )
                if reason:
                    raise ebs_error("AccessDeniedException", reason, "DEPENDENCY_ACCESS_DENIED")
            return _original(self)

        setattr(EBSResponse, name, checked)

    reading("list_snapshot_blocks", "SnapshotId")
    reading("get_snapshot_block", "SnapshotId")
    reading("list_changed_blocks", "SecondSnapshotId")
    reading("list_changed_blocks", "FirstSnapshotId")
