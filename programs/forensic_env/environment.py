"""ForensicEnvironment: one investigation's clean room, assembled from the four components."""

from __future__ import annotations

from typing import Any

import pulumi

from programs.forensic_env.access import AccessRoles, Grants
from programs.forensic_env.config import EnvironmentConfig
from programs.forensic_env.evidence import EvidenceStore, bucket_name
from programs.forensic_env.network import IsolatedNetwork
from programs.forensic_env.workstation import Workstation, lookup_golden_ami, session_document_name


class ForensicEnvironment(pulumi.ComponentResource):
    access: AccessRoles
    network: IsolatedNetwork
    evidence: EvidenceStore
    workstation: Workstation

    def __init__(self, name: str, cfg: EnvironmentConfig, opts: pulumi.ResourceOptions | None = None) -> None:
        # Frozen: every resource is protected. `protect` set here is inherited by every child (the Python SDK
        # copies a parent's protect into children that do not set it), down through the nested components.
        # `unprotect` is the first step of a release: still frozen, but protection lifted so that the thaw
        # that follows may remove the freeze-only resources.
        opts = pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(protect=cfg.frozen and not cfg.unprotect)
        )
        # Resolved before anything is registered: a missing image is a config error, not a half-built room.
        ami = lookup_golden_ami(cfg)
        super().__init__("forensics:index:ForensicEnvironment", name, None, opts)
        self.cfg = cfg
        child = pulumi.ResourceOptions(parent=self)

        self.access = AccessRoles(f"{name}-access", cfg, child)
        self.network = IsolatedNetwork(
            f"{name}-network", cfg, self.access.key, child, evidence_bucket=bucket_name(cfg)
        )
        r = self.access.roles
        self.evidence = EvidenceStore(
            f"{name}-evidence",
            cfg,
            self.access.key,
            [
                r["responder"].arn,
                r["investigator"].arn,
                r["custodian"].arn,
                r["analyst"].arn,
                self.access.workstation_role.arn,
                *cfg.service_principals,
            ],
            child,
        )
        self.workstation = Workstation(
            f"{name}-workstation",
            cfg,
            self.network,
            self.access.key,
            self.access.workstation_role,
            self.evidence.bucket.arn,
            ami,
            child,
        )
        self.access.grant(
            Grants(
                bucket_arn=self.evidence.bucket.arn,
                instance_arn=self.workstation.instance.arn,
                session_document_name=session_document_name(cfg),
            )
        )
        self.register_outputs(self.outputs())

    def outputs(self) -> dict[str, Any]:
        """The stack outputs of docs/contracts.md, by name. Nothing secret."""
        cfg, net, ws, roles = self.cfg, self.network, self.workstation, self.access.roles
        return {
            "investigationId": cfg.investigation_id,
            "ticket": cfg.ticket,
            "vpcId": net.vpc.id,
            "subnetIds": [s.id for s in net.subnets],
            "securityGroupId": net.workstation_security_group.id,
            "endpointIds": {service: endpoint.id for service, endpoint in net.endpoints.items()},
            "instanceId": ws.instance.id,
            "instanceProfileArn": ws.instance_profile.arn,
            "responderRoleArn": roles["responder"].arn,
            "investigatorRoleArn": roles["investigator"].arn,
            "custodianRoleArn": roles["custodian"].arn,
            "analystRoleArn": roles["analyst"].arn,
            "evidenceBucket": self.evidence.bucket.bucket,
            "evidenceBucketArn": self.evidence.bucket.arn,
            "kmsKeyArn": self.access.key.arn,
            "kmsKeyId": self.access.key.key_id,
            "flowLogGroup": net.flow_log_group.name,
            "sessionLogGroup": ws.session_log_group.name,
            "mountDocument": ws.mount_document.name,
            "alertTopicArn": ws.alert_topic.arn,
            "amiId": ws.ami.id,
            "amiAgeDays": ws.ami.age_days,
            "evidenceVolumeIds": [v.id for v in ws.evidence_volumes],
            "evidence": ws.evidence_outputs(),
            "frozen": cfg.frozen,
            "freezeSnapshotIds": [s.id for s in ws.freeze_snapshots],
        }
