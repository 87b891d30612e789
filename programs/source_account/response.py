"""What a source account holds so the service can respond in it, made once by the account's baseline and only
read or run by the evidence role: containment's deny-all instance profile (an instance holding it may call
nothing) and the project's memory-capture SSM document.

The evidence role writes no IAM and no SSM document: a role it could write and then pass to an instance, or
a document it could write and then run, would be a way to any permission. So both are made here, by the
operator's day-zero identity, and the service checks them before use (service/containment/isolation.py,
service/custody/memory_capture.py)."""

from __future__ import annotations

from importlib import resources

DENY_ALL_PROFILE = "forensics-deny-all"
DENY_ALL_POLICY = "deny-all"
EC2_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}
DENY_ALL = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]}

# The tags containment puts on an instance (service/containment), the only tags the evidence role may write
# on one; the containment record keeps whatever values they had before.
TAG_CONTAINED = "forensics:contained"
TAG_INVESTIGATION = "forensics:containment-investigation"
TAG_ARTIFACT = "forensics:containment-record"
CONTAINMENT_TAGS = (TAG_CONTAINED, TAG_INVESTIGATION, TAG_ARTIFACT)

# The name the service runs the document by (FORENSICS_MEMORY_DOCUMENT_NAME's default).
MEMORY_DOCUMENT_NAME = "Forensics-CaptureMemory"


def memory_document_content() -> str:
    """The project's memory-capture SSM document (AVML fetched, hash-checked, run; the image uploaded with
    its SHA-256 as S3's checksum): one file, shipped with this package."""
    return (
        resources.files("programs.source_account")
        .joinpath("documents/capture-memory.json")
        .read_text("utf-8")
    )
