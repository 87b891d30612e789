"""The workstation: getAmi, instance (encrypted root, IMDSv2), evidence volume + attachment, freeze."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from tests.support.standin import Clients, Driver

TAGS = {"forensics:investigation-id": "inv2", "managed-by": "forensic-cleanroom"}
INSTANCE = "aws:ec2/instance:Instance"


def test_workstation_lifecycle(driver: Driver, aws: Clients) -> None:
    ec2 = aws("ec2")
    key_id, key = driver.create("aws:kms/key:Key", "key", {"description": "inv2", "tags": TAGS})
    vpc_id, vpc = driver.create("aws:ec2/vpc:Vpc", "vpc", {"cidrBlock": "10.60.0.0/16", "tags": TAGS})
    subnet_id, subnet = driver.create(
        "aws:ec2/subnet:Subnet",
        "subnet",
        {"vpcId": vpc_id, "cidrBlock": "10.60.0.0/24", "availabilityZone": "us-east-1a", "tags": TAGS},
    )
    sg_id, sg = driver.create(
        "aws:ec2/securityGroup:SecurityGroup",
        "sg",
        {"name": "inv2-workstation", "description": "ws", "vpcId": vpc_id, "ingress": [], "egress": []},
    )
    trust = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
            ],
        }
    )
    role_id, role = driver.create(
        "aws:iam/role:Role", "ws-role", {"name": "inv2-ws", "assumeRolePolicy": trust}
    )
    profile_id, profile = driver.create(
        "aws:iam/instanceProfile:InstanceProfile", "ws-profile", {"name": "inv2-ws", "role": role_id}
    )

    # The golden AMI: by SSM parameter, then by id; and by tag (most recent).
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]
    ec2.create_tags(Resources=[image["ImageId"]], Tags=[{"Key": "forensics:golden", "Value": "true"}])
    aws("ssm").put_parameter(
        Name="/forensics/golden-ami/inv2", Value=image["ImageId"], Type="String", Overwrite=True
    )
    param = driver.invoke("aws:ssm/getParameter:getParameter", {"name": "/forensics/golden-ami/inv2"})
    ami = driver.invoke(
        "aws:ec2/getAmi:getAmi", {"filters": [{"name": "image-id", "values": [param["value"]]}]}
    )
    assert ami["id"] == ami["imageId"] == image["ImageId"] and ami["creationDate"] == image["CreationDate"]
    assert ami["name"] == image["Name"] and ami["rootDeviceName"] == image["RootDeviceName"]
    tagged = driver.invoke(
        "aws:ec2/getAmi:getAmi",
        {
            "filters": [
                {"name": "tag:forensics:golden", "values": ["true"]},
                {"name": "state", "values": ["available"]},
            ],
            "mostRecent": True,
            "owners": ["amazon"],
        },
    )
    assert tagged["id"] == image["ImageId"] and tagged["tags"]["forensics:golden"] == "true"
    with pytest.raises(Exception, match="more than one result"):
        driver.invoke("aws:ec2/getAmi:getAmi", {"owners": ["amazon"]})

    root_tags = {**TAGS, "Name": "inv2-root"}
    inputs = {
        "ami": ami["id"],
        "instanceType": "t3.large",
        "subnetId": subnet_id,
        "vpcSecurityGroupIds": [sg_id],
        "iamInstanceProfile": profile_id,
        "associatePublicIpAddress": False,
        "metadataOptions": {
            "httpEndpoint": "enabled",
            "httpTokens": "required",
            "httpPutResponseHopLimit": 1,
        },
        "rootBlockDevice": {
            "encrypted": True,
            "kmsKeyId": key["arn"],
            "volumeType": "gp3",
            "deleteOnTermination": True,
            "tags": root_tags,
        },
        "userData": "#!/bin/bash\necho ready\n",
        "tags": TAGS,
    }
    instance_id, inst = driver.create(INSTANCE, "ws", inputs)
    assert inst["instanceState"] == "running" and inst["privateIp"].startswith("10.60.0.")
    assert inst["publicIp"] == "" and inst["arn"].endswith(f"instance/{instance_id}")
    root = inst["rootBlockDevice"]
    assert (
        root["volumeId"].startswith("vol-") and root["encrypted"] is True and root["kmsKeyId"] == key["arn"]
    )
    volume = ec2.describe_volumes(VolumeIds=[root["volumeId"]])["Volumes"][0]
    assert volume["Encrypted"] and volume["KmsKeyId"] == key["arn"] and volume["VolumeType"] == "gp3"
    assert {t["Key"]: t["Value"] for t in volume["Tags"]} == root_tags
    described = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]
    assert described["MetadataOptions"]["HttpTokens"] == "required"
    assert described["IamInstanceProfile"]["Arn"].endswith(f"instance-profile/{profile_id}")
    assert not driver.diff(INSTANCE, "ws", instance_id, inst, inputs).changes  # computed fields are not drift
    assert driver.diff(INSTANCE, "ws", instance_id, inst, {**inputs, "ami": "ami-other"}).replaces == ["ami"]
    changed_root = {**inputs["rootBlockDevice"], "kmsKeyId": "arn:aws:kms:us-east-1:123456789012:key/other"}
    assert driver.diff(
        INSTANCE, "ws", instance_id, inst, {**inputs, "rootBlockDevice": changed_root}
    ).replaces == ["rootBlockDevice"]
    assert (
        driver.diff(INSTANCE, "ws", instance_id, inst, {**inputs, "instanceType": "t3.xlarge"}).replaces == []
    )

    # Evidence: a snapshot (standing in for the incident's), re-created as an encrypted volume, attached.
    source = ec2.create_volume(AvailabilityZone="us-east-1a", Size=4)
    evidence_snap = ec2.create_snapshot(VolumeId=source["VolumeId"])["SnapshotId"]
    vol_id, vol = driver.create(
        "aws:ebs/volume:Volume",
        "evidence",
        {
            "availabilityZone": inst["availabilityZone"],
            "snapshotId": evidence_snap,
            "encrypted": True,
            "kmsKeyId": key["arn"],
            "type": "gp3",
            "tags": {**TAGS, "forensics:read-only": "true"},
        },
    )
    assert (
        vol["size"] == 4
        and vol["encrypted"]
        and vol["kmsKeyId"] == key["arn"]
        and vol["snapshotId"] == evidence_snap
    )
    assert driver.diff(
        "aws:ebs/volume:Volume",
        "evidence",
        vol_id,
        vol,
        {
            "availabilityZone": "us-east-1a",
            "snapshotId": "snap-other",
            "encrypted": True,
            "kmsKeyId": key["arn"],
            "type": "gp3",
            "tags": vol["tags"],
        },
    ).replaces == ["snapshotId"]
    att_inputs = {
        "deviceName": "/dev/sdf",
        "volumeId": vol_id,
        "instanceId": instance_id,
        "stopInstanceBeforeDetaching": True,
    }
    att_id, _ = driver.create("aws:ec2/volumeAttachment:VolumeAttachment", "att", att_inputs)
    assert att_id.startswith("vai-")
    attachment = ec2.describe_volumes(VolumeIds=[vol_id])["Volumes"][0]["Attachments"][0]
    assert attachment["InstanceId"] == instance_id and attachment["Device"] == "/dev/sdf"

    # Freeze: stop, snapshot every disk.
    state_id, state = driver.create(
        "aws:ec2transitgateway/instanceState:InstanceState",
        "stopped",
        {"instanceId": instance_id, "state": "stopped"},
    )
    assert state_id == instance_id
    assert (
        ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]["State"]["Name"]
        == "stopped"
    )
    snaps = []
    for label, volume_id in (("root", root["volumeId"]), ("evidence", vol_id)):
        snap_id, snap = driver.create(
            "aws:ebs/snapshot:Snapshot",
            f"freeze-{label}",
            {
                "volumeId": volume_id,
                "description": f"frozen {label}",
                "tags": {**TAGS, "forensics:frozen": "true"},
            },
        )
        assert snap["encrypted"] is True and snap["kmsKeyId"] == key["arn"] and snap["arn"].endswith(snap_id)
        got = ec2.describe_snapshots(SnapshotIds=[snap_id])["Snapshots"][0]
        assert got["State"] == "completed" and {"Key": "forensics:frozen", "Value": "true"} in got["Tags"]
        snaps.append((snap_id, snap))

    # Refresh of the stopped instance; thaw through the state resource.
    _, refreshed, _ = driver.read(INSTANCE, "ws", instance_id, inst, inputs)
    assert refreshed["instanceState"] == "stopped"
    assert (
        driver.read("aws:ec2transitgateway/instanceState:InstanceState", "stopped", state_id, state)[1][
            "state"
        ]
        == "stopped"
    )
    state = driver.update(
        "aws:ec2transitgateway/instanceState:InstanceState",
        "stopped",
        state_id,
        state,
        {"instanceId": instance_id, "state": "running"},
    )
    assert state["state"] == "running"

    # In-place updates: type (stop/modify/start), tags, root volume tags.
    inst = driver.update(
        INSTANCE,
        "ws",
        instance_id,
        refreshed,
        {
            **inputs,
            "instanceType": "t3.xlarge",
            "tags": {**TAGS, "extra": "1"},
            "rootBlockDevice": {**inputs["rootBlockDevice"], "tags": TAGS},
        },
    )
    assert inst["instanceType"] == "t3.xlarge" and inst["instanceState"] == "running"
    assert inst["tagsAll"] == {**TAGS, "extra": "1"} and inst["rootBlockDevice"]["tags"] == TAGS

    # Tear down: detach (stops the instance first), delete everything, nothing left.
    driver.delete("aws:ec2/volumeAttachment:VolumeAttachment", "att", att_id, {**att_inputs})
    assert ec2.describe_volumes(VolumeIds=[vol_id])["Volumes"][0]["Attachments"] == []
    for snap_id, snap in snaps:
        driver.delete("aws:ebs/snapshot:Snapshot", "s", snap_id, snap)
        with pytest.raises(ClientError):
            ec2.describe_snapshots(SnapshotIds=[snap_id])
    driver.delete("aws:ec2transitgateway/instanceState:InstanceState", "stopped", state_id, state)
    driver.delete("aws:ebs/volume:Volume", "evidence", vol_id, vol)
    driver.delete(INSTANCE, "ws", instance_id, inst)
    got = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]
    assert got["State"]["Name"] == "terminated"
    assert driver.read(INSTANCE, "ws", instance_id, inst)[0] == ""
    for token, name, rid, st in (
        ("aws:iam/instanceProfile:InstanceProfile", "p", profile_id, profile),
        ("aws:iam/role:Role", "r", role_id, role),
        ("aws:ec2/securityGroup:SecurityGroup", "sg", sg_id, sg),
        ("aws:ec2/subnet:Subnet", "s", subnet_id, subnet),
        ("aws:ec2/vpc:Vpc", "v", vpc_id, vpc),
        ("aws:kms/key:Key", "k", key_id, key),
    ):
        driver.delete(token, name, rid, st)
        assert driver.read(token, name, rid, st)[0] == ""
