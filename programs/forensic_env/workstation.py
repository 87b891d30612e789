"""Workstation: the forensic EC2 instance built from the golden AMI, reachable only through Session Manager.

IMDSv2 only, no public IP, no key pair, the root disk encrypted with the investigation key. Every evidence
snapshot is first copied into the clean room (a declared SnapshotCopy, encrypted with the investigation key,
kept like the evidence bucket): the original is never attached anywhere. The copies marked `attach` become
volumes attached as /dev/sdf, /dev/sdg, ... and mounted read-only at boot.
Session Manager sessions are logged to an encrypted log group through a Session preferences document.
Frozen: the instance is stopped and every disk is snapshotted.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws

from programs.forensic_env.access import log_group_name
from programs.forensic_env.config import (
    EVIDENCE_DEVICE_LETTERS,
    ConfigError,
    EnvironmentConfig,
    EvidenceArtifact,
)
from programs.forensic_env.network import IsolatedNetwork
from programs.forensic_env.policies import allow, document
from programs.forensic_env.tags import TAG_READ_ONLY, tags_for

MOUNT_ROOT = "/mnt/evidence"
# The first-boot mount of the evidence volumes: its human log, and its JSON lines report (one line per device:
# device, snapshot, mountpoints, fstype, readonly, ok, error) for a later step to read.
MOUNT_LOG = "/var/log/forensics-evidence-mount.log"
MOUNT_REPORT = "/var/log/forensics-evidence-mount.json"
MOUNT_SCRIPT_NAME = "programs/forensic_env/scripts/mount_evidence.sh"
MOUNT_SCRIPT = Path(__file__).resolve().parent / "scripts" / "mount_evidence.sh"


@dataclass(frozen=True)
class GoldenAmi:
    id: str
    creation_date: str
    age_days: int


def ami_age_days(creation_date: str, now: datetime | None = None) -> int:
    created = datetime.fromisoformat(creation_date.replace("Z", "+00:00"))
    if created.tzinfo is None:
        created = created.replace(tzinfo=UTC)
    return max(0, ((now or datetime.now(UTC)) - created).days)


_AMI_SETTING = {"id": "amiId", "tag": "amiTag", "ssm": "amiSsmParameter"}


def lookup_golden_ami(cfg: EnvironmentConfig) -> GoldenAmi:
    """Resolve the configured source to one image and its age (the freshness check is the policy pack's).

    An image (or SSM parameter) that can't be found is a config error naming the setting that chose it,
    raised before any resource is declared."""
    source = cfg.ami_source
    setting = _AMI_SETTING[source.kind]
    try:
        if source.kind == "tag":
            key, value = source.tag
            image = aws.ec2.get_ami(
                filters=[
                    {"name": f"tag:{key}", "values": [value]},
                    {"name": "state", "values": ["available"]},
                ],
                most_recent=True,
                owners=list(cfg.ami_owners),
            )
        else:
            # An explicit id (or one published in the parameter) must still belong to a configured owner: an
            # image anyone shared or made public is not a golden AMI.
            ami_id = source.value if source.kind == "id" else aws.ssm.get_parameter(name=source.value).value
            image = aws.ec2.get_ami(
                filters=[{"name": "image-id", "values": [ami_id]}], owners=list(cfg.ami_owners)
            )
    except Exception as exc:
        raise ConfigError(setting, f"golden AMI {source.value!r} could not be found: {exc}") from exc
    if not image.id or not image.creation_date:
        raise ConfigError(setting, f"golden AMI {image.id or source.value!r} has no creation date")
    return GoldenAmi(image.id, image.creation_date, ami_age_days(image.creation_date))


def evidence_devices(cfg: EnvironmentConfig) -> list[tuple[EvidenceArtifact, str]]:
    """(artifact, device name) of the attached artifacts in config order: /dev/sdf, /dev/sdg, ..."""
    return [
        (artifact, f"/dev/sd{letter}")
        for artifact, letter in zip(cfg.attached_evidence, EVIDENCE_DEVICE_LETTERS, strict=False)
    ]


def mount_script() -> str:
    """The evidence mount script, read from its file each time (the user data embeds it verbatim)."""
    return MOUNT_SCRIPT.read_text(encoding="utf-8")


def user_data(cfg: EnvironmentConfig) -> str:
    """Boot script: mount each evidence device read-only (scripts/mount_evidence.sh), one after the other.

    The script's functions are embedded verbatim, then one `mount_evidence <letter> <snapshot>` per artifact
    given at open (`evidenceSnapshotIds`) in device order, naming the source snapshot (what the examiner knows
    the evidence by). The first device that cannot be mounted and proven read-only stops the script with a
    non-zero exit status; every device tried has a JSON line in MOUNT_REPORT."""
    script = mount_script()
    lines = [
        "#!/bin/bash",
        f"# Forensic workstation for investigation {cfg.investigation_id} ({cfg.ticket}).",
        "# Evidence volumes are mounted read-only; noload skips ext3/4 journal replay: nothing is written.",
        f"exec >>{MOUNT_LOG} 2>&1",
        f"EVIDENCE_MOUNT_ROOT={shlex.quote(MOUNT_ROOT)}",
        f"EVIDENCE_MOUNT_REPORT={shlex.quote(MOUNT_REPORT)}",
        "",
        f"# --- {MOUNT_SCRIPT_NAME} (verbatim) ---",
        script.rstrip("\n"),
        f"# --- end of {MOUNT_SCRIPT_NAME} ---",
        "",
    ]
    at_boot = set(cfg.evidence_snapshot_ids)
    for artifact, device in evidence_devices(cfg):
        # Only what is there at first boot: user data runs once, and changing it would stop and start the
        # workstation under the examiner. Evidence acquired into a running clean room is attached, not
        # mounted by the boot script.
        if artifact.id in at_boot:
            lines.append(f"mount_evidence {shlex.quote(device[-1])} {shlex.quote(artifact.snapshot_id)}")
    lines.append("")
    return "\n".join(lines)


def session_document_name(cfg: EnvironmentConfig) -> str:
    return f"{cfg.name_prefix}-session-prefs"


def mount_document_name(cfg: EnvironmentConfig) -> str:
    return f"{cfg.name_prefix}-mount-evidence"


# Marks the mount command's script (the local AWS's stand-in for the SSM agent recognises it by this line).
MOUNT_COMMAND_MARKER = "# forensics:evidence-mount-command"
# How long the command waits for a device, or for the boot script's report line, in seconds.
MOUNT_COMMAND_WAIT = 300


def mount_command_lines() -> list[str]:
    """The mount document's shell script (``runCommand``), before SSM puts in the parameters: the mount
    script verbatim, then a driver that mounts (``action=mount``) and prints the device's report line. A
    device is reported under the name it was attached as (``attached_as``): once found, the script names
    it by the block device it resolved to (an NVMe or xvd device on EC2)."""
    script = mount_script().rstrip("\n").split("\n")
    driver = [
        MOUNT_COMMAND_MARKER,
        "device=/dev/sd{{ letter }}",
        "status=0",
        "if [ '{{ action }}' = mount ]; then mount_evidence '{{ letter }}' '{{ snapshot }}' || status=$?; fi",
        'attached="\\"attached_as\\":\\"$device\\""',
        'named="\\"device\\":\\"$device\\""',
        f"for _ in $(seq {MOUNT_COMMAND_WAIT}); do",
        # The script runs under `set -euo pipefail`: no line yet is not an error here.
        '  line=$(grep -F -e "$attached" -e "$named" "$EVIDENCE_MOUNT_REPORT" 2>/dev/null | tail -n 1)'
        ' || line=""',
        '  [ -n "$line" ] && break',
        "  sleep 1",
        "done",
        'if [ -z "$line" ]; then',
        '  echo "mount_evidence: $device (snapshot {{ snapshot }}): no report line" >&2',
        "  exit 1",
        "fi",
        "printf '%s\\n' \"$line\"",
        'case $line in *\'"ok":true\'*) exit "$status" ;; *) exit 1 ;; esac',
    ]
    return [
        "#!/bin/bash",
        f"EVIDENCE_MOUNT_ROOT={shlex.quote(MOUNT_ROOT)}",
        f"EVIDENCE_MOUNT_REPORT={shlex.quote(MOUNT_REPORT)}",
        *script,
        *driver,
    ]


def mount_command(cfg: EnvironmentConfig) -> dict[str, object]:
    """The SSM Run Command document through which the service mounts evidence attached to a running
    workstation (`action=mount`), or reads the boot script's result for evidence given at open
    (`action=report`), and gets the device's JSON report line back as the command's output. SSM checks the
    parameters against their patterns before anything runs, so nothing but a letter and a snapshot id ever
    reaches the shell."""
    return {
        "schemaVersion": "2.2",
        "description": f"Mount evidence read-only or report its boot mount ({cfg.investigation_id})",
        "parameters": {
            "action": {"type": "String", "allowedValues": ["mount", "report"]},
            "letter": {"type": "String", "allowedPattern": "^[f-p]$"},
            "snapshot": {"type": "String", "allowedPattern": "^snap-[0-9a-f]{8,17}$"},
        },
        "mainSteps": [
            {
                "action": "aws:runShellScript",
                "name": "evidence",
                "inputs": {
                    "timeoutSeconds": str(MOUNT_COMMAND_WAIT + 300),
                    "runCommand": mount_command_lines(),
                },
            }
        ],
    }


class Workstation(pulumi.ComponentResource):
    ami: GoldenAmi
    instance: aws.ec2.Instance
    instance_profile: aws.iam.InstanceProfile
    session_log_group: aws.cloudwatch.LogGroup
    session_document: aws.ssm.Document
    mount_document: aws.ssm.Document
    alert_topic: aws.sns.Topic
    _cfg: EnvironmentConfig
    # The attached artifacts' volumes and devices, by artifact id.
    _devices: dict[str, tuple[aws.ebs.Volume, str]]
    # By artifact id, in config order.
    evidence_copies: dict[str, aws.ebs.SnapshotCopy]
    # The attached artifacts' volumes, in device order.
    evidence_volumes: list[aws.ebs.Volume]
    freeze_snapshots: list[aws.ebs.Snapshot]

    def __init__(
        self,
        name: str,
        cfg: EnvironmentConfig,
        network: IsolatedNetwork,
        key: aws.kms.Key,
        role: aws.iam.Role,
        bucket_arn: pulumi.Input[str],
        ami: GoldenAmi,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("forensics:index:Workstation", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        prefix = cfg.name_prefix
        self._cfg = cfg
        self.ami = ami
        if self.ami.age_days > cfg.max_ami_age_days:
            pulumi.log.warn(
                f"golden AMI {self.ami.id} is {self.ami.age_days} days old "
                f"(forensics:maxAmiAgeDays is {cfg.max_ami_age_days})",
                self,
            )

        # Session Manager logging: encrypted log group + Session preferences document; alerts topic.
        self.session_log_group = aws.cloudwatch.LogGroup(
            f"{name}-session-logs",
            name=log_group_name(cfg, "ssm-sessions"),
            kms_key_id=key.arn,
            retention_in_days=365,
            tags=tags_for(cfg, f"{prefix}-ssm-sessions"),
            opts=child,
        )
        self.session_document = aws.ssm.Document(
            f"{name}-session-prefs",
            name=session_document_name(cfg),
            document_type="Session",
            document_format="JSON",
            content=pulumi.Output.json_dumps(
                {
                    "schemaVersion": "1.0",
                    "description": f"Session Manager preferences for investigation {cfg.investigation_id}",
                    "sessionType": "Standard_Stream",
                    "inputs": {
                        "s3BucketName": "",
                        "s3EncryptionEnabled": True,
                        "cloudWatchLogGroupName": self.session_log_group.name,
                        "cloudWatchEncryptionEnabled": True,
                        "cloudWatchStreamingEnabled": True,
                        "kmsKeyId": key.key_id,
                        "runAsEnabled": False,
                        "idleSessionTimeout": "20",
                    },
                }
            ),
            tags=tags_for(cfg, session_document_name(cfg)),
            opts=child,
        )
        self.mount_document = aws.ssm.Document(
            f"{name}-mount-evidence",
            name=mount_document_name(cfg),
            document_type="Command",
            document_format="JSON",
            content=json.dumps(mount_command(cfg)),
            tags=tags_for(cfg, mount_document_name(cfg)),
            opts=child,
        )
        self.alert_topic = aws.sns.Topic(
            f"{name}-alerts",
            name=f"{prefix}-session-alerts",
            kms_master_key_id=key.arn,
            tags=tags_for(cfg, f"{prefix}-session-alerts"),
            opts=child,
        )

        # The instance role's permissions: Session Manager, read-only evidence, session logs.
        scope = f"{cfg.region}:{cfg.account_id}"
        session_group = self.session_log_group.arn
        policy = aws.iam.RolePolicy(
            f"{name}-role-policy",
            role=role.id,
            name="forensics-workstation",
            policy=document(
                [
                    allow(
                        "SessionManagerRegistration",
                        ["ssm:UpdateInstanceInformation"],
                        [f"arn:aws:ec2:{scope}:instance/*"],
                    ),
                    allow(
                        "SessionManagerChannels",
                        [
                            "ssmmessages:CreateControlChannel",
                            "ssmmessages:CreateDataChannel",
                            "ssmmessages:OpenControlChannel",
                            "ssmmessages:OpenDataChannel",
                        ],
                        [f"arn:aws:ssmmessages:{scope}:*"],
                    ),
                    allow(
                        "SessionManagerMessages",
                        [
                            "ec2messages:AcknowledgeMessage",
                            "ec2messages:DeleteMessage",
                            "ec2messages:FailMessage",
                            "ec2messages:GetEndpoint",
                            "ec2messages:GetMessages",
                            "ec2messages:SendReply",
                        ],
                        [f"arn:aws:ec2messages:{scope}:*"],
                    ),
                    allow(
                        "ReadEvidence",
                        ["s3:GetObject", "s3:GetObjectVersion"],
                        [pulumi.Output.concat(bucket_arn, "/*")],
                    ),
                    allow("ListEvidence", ["s3:ListBucket"], [bucket_arn]),
                    allow("DecryptWithInvestigationKey", ["kms:Decrypt"], [key.arn]),
                    allow(
                        "WriteSessionLogs",
                        ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                        [session_group, pulumi.Output.concat(session_group, ":*")],
                    ),
                    allow(
                        "CheckSessionLogGroupEncryption",
                        ["logs:DescribeLogGroups"],
                        [f"arn:aws:logs:{scope}:log-group:*"],
                    ),
                ]
            ),
            opts=child,
        )
        self.instance_profile = aws.iam.InstanceProfile(
            f"{name}-profile",
            name=f"{prefix}-workstation",
            role=role.name,
            tags=tags_for(cfg, f"{prefix}-workstation"),
            opts=child,
        )
        self.instance = aws.ec2.Instance(
            f"{name}-instance",
            ami=self.ami.id,
            instance_type=cfg.instance_type,
            subnet_id=network.subnets[0].id,
            vpc_security_group_ids=[network.workstation_security_group.id],
            iam_instance_profile=self.instance_profile.name,
            associate_public_ip_address=False,
            metadata_options={
                "http_endpoint": "enabled",
                "http_tokens": "required",
                "http_put_response_hop_limit": 1,
            },
            root_block_device={
                "encrypted": True,
                "kms_key_id": key.arn,
                "volume_type": "gp3",
                "delete_on_termination": True,
                "tags": tags_for(cfg, f"{prefix}-workstation-root"),
            },
            user_data=user_data(cfg),
            # Nothing about the image's age here: golden-ami-fresh asks EC2, a tag would only be the
            # program's word for it.
            tags=tags_for(cfg, f"{prefix}-workstation", {"forensics:ami-id": self.ami.id}),
            # Not running before its DNS is fenced: an unfenced resolver is a way out.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[policy, network.dns_firewall_association]),
        )

        # Evidence: a copy of every snapshot, kept as evidence itself (retained and protected as the bucket
        # is); only copies become volumes, so the original is never attached to anything.
        retain = cfg.retain_evidence_bucket or None
        self.evidence_copies = {}
        for artifact in cfg.evidence:
            self.evidence_copies[artifact.id] = aws.ebs.SnapshotCopy(
                f"{name}-evidence-{artifact.id}-copy",
                source_snapshot_id=artifact.snapshot_id,
                source_region=cfg.region,
                encrypted=True,
                kms_key_id=key.arn,
                description=(
                    f"Evidence {artifact.id} of investigation {cfg.investigation_id}: "
                    f"copy of {artifact.snapshot_id}"
                ),
                tags=tags_for(cfg, f"{prefix}-evidence-{artifact.id}-copy", _artifact_tags(artifact)),
                opts=pulumi.ResourceOptions(parent=self, retain_on_delete=retain),
            )

        # The attached copies: a new volume each, encrypted with the investigation key, attached in order.
        self._devices = {}
        self.evidence_volumes = []
        attachments: list[aws.ec2.VolumeAttachment] = []
        for artifact, device in evidence_devices(cfg):
            volume = aws.ebs.Volume(
                f"{name}-evidence-{artifact.id}",
                availability_zone=self.instance.availability_zone,
                snapshot_id=self.evidence_copies[artifact.id].id,
                encrypted=True,
                kms_key_id=key.arn,
                type="gp3",
                tags=tags_for(
                    cfg,
                    f"{prefix}-evidence-{artifact.id}",
                    {**_artifact_tags(artifact), TAG_READ_ONLY: "true", "forensics:device": device},
                ),
                opts=child,
            )
            attachments.append(
                aws.ec2.VolumeAttachment(
                    f"{name}-evidence-{artifact.id}-attachment",
                    device_name=device,
                    volume_id=volume.id,
                    instance_id=self.instance.id,
                    stop_instance_before_detaching=True,
                    opts=child,
                )
            )
            self.evidence_volumes.append(volume)
            self._devices[artifact.id] = (volume, device)

        # Frozen: stop the workstation, then snapshot every disk (evidence volumes and the root volume).
        self.freeze_snapshots = []
        # The power state is always declared (deleting an InstanceState leaves the instance as it is, so a
        # thaw must say "running" rather than drop the "stopped").
        power = aws.ec2transitgateway.InstanceState(
            f"{name}-power",
            instance_id=self.instance.id,
            state="stopped" if cfg.frozen else "running",
            opts=pulumi.ResourceOptions(parent=self, depends_on=attachments),
        )
        if cfg.frozen:
            stopped = power
            root_volume = self.instance.root_block_device.apply(lambda device: device.volume_id or "")
            disks: list[tuple[str, pulumi.Input[str]]] = [("root", root_volume)]
            disks += [(artifact_id, volume.id) for artifact_id, (volume, _) in self._devices.items()]
            for label, volume_id in disks:
                self.freeze_snapshots.append(
                    aws.ebs.Snapshot(
                        f"{name}-freeze-{label}",
                        volume_id=volume_id,
                        description=f"Frozen state of {label} for investigation {cfg.investigation_id}",
                        tags=tags_for(cfg, f"{prefix}-freeze-{label}", {"forensics:frozen": "true"}),
                        # The frozen state is evidence too: a release or destroy leaves these snapshots.
                        opts=pulumi.ResourceOptions(parent=self, depends_on=[stopped], retain_on_delete=True),
                    )
                )

        self.register_outputs(
            {
                "instanceId": self.instance.id,
                "amiId": self.ami.id,
                "amiAgeDays": self.ami.age_days,
                "evidenceVolumeIds": [v.id for v in self.evidence_volumes],
                "evidence": self.evidence_outputs(),
                "freezeSnapshotIds": [s.id for s in self.freeze_snapshots],
            }
        )

    def evidence_outputs(self) -> dict[str, dict[str, Any]]:
        """Per artifact id: its source snapshot, its copy, its volume and device (None when not attached)."""
        out: dict[str, dict[str, Any]] = {}
        for artifact in self._cfg.evidence:
            volume, device = self._devices.get(artifact.id, (None, None))
            out[artifact.id] = {
                "sourceSnapshotId": artifact.snapshot_id,
                "copySnapshotId": self.evidence_copies[artifact.id].id,
                "volumeId": volume.id if volume is not None else None,
                "device": device,
            }
        return out


def _artifact_tags(artifact: EvidenceArtifact) -> dict[str, str]:
    """What ties a copy or a volume back to the evidence it was made from."""
    return {"forensics:artifact": artifact.id, "forensics:source-snapshot": artifact.snapshot_id}
