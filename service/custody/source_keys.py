"""How a source snapshot becomes usable by the forensic account, given its encryption (as AWS requires it).

- Unencrypted: shared as it is.
- Under a customer managed key: shared, and its key with it (a grant for the forensic account: what EC2 needs
  to copy it). If the key cannot be granted from the snapshot role (its key policy keeps that to others), the
  snapshot is re-encrypted as below.
- Under the AWS managed key ``aws/ebs`` (which AWS never lets another account use, and whose snapshots it
  refuses to share): first copied in the source account under a key made for the purpose, whose use is
  granted to the forensic account; the copy is shared. The copy's hash must equal the original's.

Every call here goes through the snapshot role of the source account (boto3 clients given by the caller).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from programs.source_account.permissions import KEY_INVESTIGATION_TAG

# What EC2 (copying, creating a volume) and the EBS direct APIs do with the key for the forensic account.
GRANTED_OPERATIONS = ["Decrypt", "DescribeKey", "CreateGrant", "ReEncryptFrom"]


@dataclass(frozen=True)
class SourceKey:
    """A source snapshot's encryption: its key (None: unencrypted) and whether AWS manages that key."""

    key_id: str | None
    aws_managed: bool

    @property
    def encrypted(self) -> bool:
        return self.key_id is not None


def key_of(ec2: Any, kms: Any, snapshot_id: str) -> SourceKey:
    (snapshot,) = ec2.describe_snapshots(SnapshotIds=[snapshot_id])["Snapshots"]
    if not snapshot.get("Encrypted"):
        return SourceKey(None, False)
    key_id = str(snapshot["KmsKeyId"])
    metadata = kms.describe_key(KeyId=key_id)["KeyMetadata"]
    return SourceKey(str(metadata["Arn"]), metadata.get("KeyManager") == "AWS")


def grant_to(kms: Any, key_id: str, forensic_account: str, investigation_id: str) -> str | None:
    """A grant of the key's use for the forensic account; None if the snapshot role may not grant it."""
    try:
        grant = kms.create_grant(
            KeyId=key_id,
            GranteePrincipal=f"arn:aws:iam::{forensic_account}:root",
            Operations=GRANTED_OPERATIONS,
            Name=f"forensics-{investigation_id}",
        )
    except kms.exceptions.ClientError as exc:
        if exc.response["Error"]["Code"] in ("AccessDeniedException", "AccessDenied"):
            return None
        raise
    return str(grant["GrantId"])


def make_key(kms: Any, source_account: str, investigation_id: str) -> str:
    """A customer managed key in the source account for the investigation's re-encrypted evidence: its
    account administers it (as every key's default policy says); the forensic account gets a grant."""
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "TheAccountAdministersItsKey",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{source_account}:root"},
                "Action": "kms:*",
                "Resource": "*",
            }
        ],
    }
    created = kms.create_key(
        Description=f"forensic evidence of {investigation_id}, re-encrypted to be shared",
        Policy=json.dumps(policy),
        # The evidence role may make a key only tagged with the investigation (its policy's condition).
        Tags=[{"TagKey": KEY_INVESTIGATION_TAG, "TagValue": investigation_id}],
    )
    return str(created["KeyMetadata"]["Arn"])


def reencrypt(ec2: Any, snapshot_id: str, key_id: str, region: str, investigation_id: str) -> str:
    """A copy of the snapshot in its own account under ``key_id``; returns its id (the caller waits)."""
    copy = ec2.copy_snapshot(
        SourceSnapshotId=snapshot_id,
        SourceRegion=region,
        Encrypted=True,
        KmsKeyId=key_id,
        Description=f"forensic acquisition for {investigation_id}: {snapshot_id} re-encrypted to be shared",
        TagSpecifications=[
            {
                "ResourceType": "snapshot",
                "Tags": [
                    {"Key": "forensics:investigation", "Value": investigation_id},
                    {"Key": "forensics:reencrypted-from", "Value": snapshot_id},
                ],
            }
        ],
    )
    return str(copy["SnapshotId"])
