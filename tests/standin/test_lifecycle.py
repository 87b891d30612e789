"""Create/read/update/delete through the provider methods, checked against moto with boto3."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from tests.support.standin import Clients, Driver

TAGS = {"forensics:investigation-id": "inv1", "managed-by": "forensic-cleanroom"}
VPC, SUBNET, SG = "aws:ec2/vpc:Vpc", "aws:ec2/subnet:Subnet", "aws:ec2/securityGroup:SecurityGroup"
RTA = "aws:ec2/routeTableAssociation:RouteTableAssociation"


def test_vpc_subnet_security_group(driver: Driver, aws: Clients) -> None:
    ec2 = aws("ec2")
    vpc_id, vpc = driver.create(
        VPC,
        "vpc",
        {
            "cidrBlock": "10.77.0.0/16",
            "enableDnsSupport": True,
            "enableDnsHostnames": True,
            "tags": TAGS,
        },
    )
    assert vpc_id.startswith("vpc-")
    assert vpc["arn"].endswith(f":vpc/{vpc_id}") and vpc["tagsAll"] == TAGS
    assert vpc["defaultSecurityGroupId"].startswith("sg-") and vpc["mainRouteTableId"].startswith("rtb-")
    attr = ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute="enableDnsHostnames")
    assert attr["EnableDnsHostnames"]["Value"] is True

    # A replacement property and a tag change are told apart.
    diff = driver.diff(VPC, "vpc", vpc_id, vpc, {"cidrBlock": "10.78.0.0/16", "tags": TAGS})
    assert diff.changes and diff.replaces == ["cidrBlock"]
    diff = driver.diff(
        VPC,
        "vpc",
        vpc_id,
        vpc,
        {"cidrBlock": "10.77.0.0/16", "enableDnsSupport": True, "enableDnsHostnames": True, "tags": TAGS},
    )
    assert not diff.changes

    subnet_id, subnet = driver.create(
        SUBNET,
        "subnet",
        {
            "vpcId": vpc_id,
            "cidrBlock": "10.77.0.0/24",
            "availabilityZone": "us-east-1a",
            "mapPublicIpOnLaunch": False,
            "tags": TAGS,
        },
    )
    assert subnet["arn"].endswith(subnet_id) and subnet["availabilityZone"] == "us-east-1a"
    for key in ("vpcId", "cidrBlock", "availabilityZone"):
        changed = {**subnet, key: "x"}
        assert driver.diff(
            SUBNET,
            "subnet",
            subnet_id,
            subnet,
            {k: changed[k] for k in ("vpcId", "cidrBlock", "availabilityZone")},
        ).replaces == [key]

    rule = {
        "protocol": "tcp",
        "fromPort": 443,
        "toPort": 443,
        "cidrBlocks": ["10.77.0.0/16"],
        "description": "HTTPS to the VPC endpoints",
    }
    sg_inputs = {
        "description": "workstation",
        "vpcId": vpc_id,
        "ingress": [],
        "egress": [rule],
        "revokeRulesOnDelete": True,
        "tags": TAGS,
    }
    sg_id, sg = driver.create(SG, "workstation-sg", sg_inputs)
    assert sg["name"].startswith("workstation-sg-") and len(sg["name"]) == len("workstation-sg-") + 7
    group = ec2.describe_security_groups(GroupIds=[sg_id])["SecurityGroups"][0]
    assert group["IpPermissions"] == []
    assert [
        (p["IpProtocol"], p["FromPort"], p["IpRanges"][0]["CidrIp"]) for p in group["IpPermissionsEgress"]
    ] == [("tcp", 443, "10.77.0.0/16")]  # AWS's default allow-all egress is gone
    assert not driver.diff(SG, "workstation-sg", sg_id, sg, {**sg_inputs, "name": sg["name"]}).changes

    # Frozen: no rules at all.
    sg = driver.update(SG, "workstation-sg", sg_id, sg, {**sg_inputs, "name": sg["name"], "egress": []})
    assert sg["egress"] == []
    assert ec2.describe_security_groups(GroupIds=[sg_id])["SecurityGroups"][0]["IpPermissionsEgress"] == []

    # Drift: a tag removed out of band is seen by read and shows up as a diff.
    ec2.delete_tags(Resources=[vpc_id], Tags=[{"Key": "managed-by"}])
    read_id, refreshed, _ = driver.read(VPC, "vpc", vpc_id, vpc, {"cidrBlock": "10.77.0.0/16", "tags": TAGS})
    assert read_id == vpc_id and "managed-by" not in refreshed["tags"]
    diff = driver.diff(VPC, "vpc", vpc_id, refreshed, {"cidrBlock": "10.77.0.0/16", "tags": TAGS})
    assert diff.diffs == ["tags"] and not diff.replaces
    vpc = driver.update(
        VPC, "vpc", vpc_id, refreshed, {"cidrBlock": "10.77.0.0/16", "tags": {**TAGS, "x": "1"}}
    )
    tags = {t["Key"]: t["Value"] for t in ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"][0]["Tags"]}
    assert tags == {**TAGS, "x": "1"} and vpc["tagsAll"] == tags

    # Route table, association, endpoints, flow log.
    rt_id, rt = driver.create("aws:ec2/routeTable:RouteTable", "rt", {"vpcId": vpc_id, "tags": TAGS})
    assert rt["routes"] == []
    assoc_id, _ = driver.create(
        "aws:ec2/routeTableAssociation:RouteTableAssociation",
        "rta",
        {"subnetId": subnet_id, "routeTableId": rt_id},
    )
    assert assoc_id.startswith("rtbassoc-")
    rt2_id, rt2 = driver.create("aws:ec2/routeTable:RouteTable", "rt2", {"vpcId": vpc_id})
    rta = {"subnetId": subnet_id, "routeTableId": rt2_id}
    driver.update(RTA, "rta", assoc_id, {"subnetId": subnet_id, "routeTableId": rt_id}, rta)
    assert driver.read(RTA, "rta", assoc_id, rta)[1]["routeTableId"] == rt2_id
    gw_id, gw = driver.create(
        "aws:ec2/vpcEndpoint:VpcEndpoint",
        "s3-endpoint",
        {
            "vpcId": vpc_id,
            "serviceName": "com.amazonaws.us-east-1.s3",
            "vpcEndpointType": "Gateway",
            "routeTableIds": [rt_id],
            "tags": TAGS,
        },
    )
    assert gw["state"] == "available" and gw["routeTableIds"] == [rt_id]
    if_id, iface = driver.create(
        "aws:ec2/vpcEndpoint:VpcEndpoint",
        "ssm-endpoint",
        {
            "vpcId": vpc_id,
            "serviceName": "com.amazonaws.us-east-1.ssm",
            "vpcEndpointType": "Interface",
            "privateDnsEnabled": True,
            "subnetIds": [subnet_id],
            "securityGroupIds": [sg_id],
            "tags": TAGS,
        },
    )
    assert iface["subnetIds"] == [subnet_id] and iface["securityGroupIds"] == [sg_id]
    _, after_rt, _ = driver.read("aws:ec2/routeTable:RouteTable", "rt", rt_id, rt)
    assert after_rt["routes"] == []  # endpoint routes are not the table's `routes`, as in pulumi-aws

    group_id, group_state = driver.create(
        "aws:cloudwatch/logGroup:LogGroup",
        "flow-logs",
        {"name": "/forensics/inv1/vpc-flow-logs", "retentionInDays": 365, "tags": TAGS},
    )
    assert group_state["arn"].endswith(":log-group:/forensics/inv1/vpc-flow-logs")
    fl_id, fl = driver.create(
        "aws:ec2/flowLog:FlowLog",
        "flow-log",
        {
            "vpcId": vpc_id,
            "trafficType": "ALL",
            "logDestinationType": "cloud-watch-logs",
            "logDestination": group_state["arn"],
            "iamRoleArn": "arn:aws:iam::123456789012:role/flow",
            "maxAggregationInterval": 60,
            "tags": TAGS,
        },
    )
    assert fl["arn"].endswith(f"vpc-flow-log/{fl_id}")
    assert ec2.describe_flow_logs(FlowLogIds=[fl_id])["FlowLogs"][0]["MaxAggregationInterval"] == 60

    # Delete in dependency order; everything is gone afterwards.
    driver.delete("aws:ec2/flowLog:FlowLog", "flow-log", fl_id, fl)
    driver.delete("aws:cloudwatch/logGroup:LogGroup", "flow-logs", group_id, group_state)
    driver.delete("aws:ec2/vpcEndpoint:VpcEndpoint", "ssm-endpoint", if_id, iface)
    driver.delete("aws:ec2/vpcEndpoint:VpcEndpoint", "s3-endpoint", gw_id, gw)
    driver.delete(RTA, "rta", assoc_id, rta)
    assert driver.read(RTA, "rta", assoc_id, rta)[0] == ""
    driver.delete("aws:ec2/routeTable:RouteTable", "rt2", rt2_id, rt2)
    driver.delete("aws:ec2/routeTable:RouteTable", "rt", rt_id, rt)
    driver.delete(SG, "workstation-sg", sg_id, sg)
    driver.delete(SUBNET, "subnet", subnet_id, subnet)
    driver.delete(VPC, "vpc", vpc_id, vpc)
    assert driver.read(VPC, "vpc", vpc_id, vpc)[0] == ""  # gone: empty id, the engine drops it
    with pytest.raises(ClientError):
        ec2.describe_vpcs(VpcIds=[vpc_id])
    assert not aws("logs").describe_log_groups(logGroupNamePrefix="/forensics/inv1/vpc-flow-logs")[
        "logGroups"
    ]


def test_evidence_bucket(driver: Driver, aws: Clients) -> None:
    s3, kms = aws("s3"), aws("kms")
    key_id, key = driver.create(
        "aws:kms/key:Key",
        "key",
        {"description": "evidence", "enableKeyRotation": True, "deletionWindowInDays": 30, "tags": TAGS},
    )
    assert key["keyId"] == key_id and key["arn"].endswith(f":key/{key_id}")
    assert kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"] is True
    alias_id, alias = driver.create(
        "aws:kms/alias:Alias", "alias", {"name": "alias/inv1", "targetKeyId": key_id}
    )
    assert alias["targetKeyArn"] == key["arn"]

    name = "forensics-inv1-evidence"
    bucket_id, bucket = driver.create(
        "aws:s3/bucket:Bucket",
        "bucket",
        {"bucket": name, "objectLockEnabled": True, "forceDestroy": True, "tags": TAGS},
    )
    assert bucket_id == name and bucket["arn"] == f"arn:aws:s3:::{name}"
    assert bucket["bucketDomainName"] == f"{name}.s3.amazonaws.com" and bucket["objectLockEnabled"] is True
    assert driver.diff(
        "aws:s3/bucket:Bucket", "bucket", bucket_id, bucket, {"bucket": "other", "tags": TAGS}
    ).replaces == ["bucket"]

    def sub(token: str, inputs: dict) -> tuple[str, dict]:
        return driver.create(token, token.split(":")[-1], {"bucket": bucket_id, **inputs})

    versioning = sub(
        "aws:s3/bucketVersioning:BucketVersioning", {"versioningConfiguration": {"status": "Enabled"}}
    )
    assert s3.get_bucket_versioning(Bucket=name)["Status"] == "Enabled"
    assert versioning[1]["versioningConfiguration"]["status"] == "Enabled"
    sse = sub(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        {
            "rules": [
                {
                    "applyServerSideEncryptionByDefault": {
                        "sseAlgorithm": "aws:kms",
                        "kmsMasterKeyId": key["arn"],
                    },
                    "bucketKeyEnabled": True,
                }
            ]
        },
    )
    rule = s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "aws:kms",
        "KMSMasterKeyID": key["arn"],
    }
    pab = sub(
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        {
            "blockPublicAcls": True,
            "blockPublicPolicy": True,
            "ignorePublicAcls": True,
            "restrictPublicBuckets": True,
        },
    )
    assert all(s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"].values())
    lock = sub(
        "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
        {"objectLockEnabled": "Enabled", "rule": {"defaultRetention": {"mode": "GOVERNANCE", "days": 30}}},
    )
    got = s3.get_object_lock_configuration(Bucket=name)["ObjectLockConfiguration"]
    assert (
        got["Rule"]["DefaultRetention"]["Mode"] == "GOVERNANCE"
        and got["Rule"]["DefaultRetention"]["Days"] == 30
    )
    assert lock[1]["rule"] == {"defaultRetention": {"mode": "GOVERNANCE", "days": 30}}
    # Folder markers in an Object Lock bucket (a PUT needs a checksum) and an object without one.
    folder_id, folder = sub(
        "aws:s3/bucketObjectv2:BucketObjectv2",
        {
            "key": "evidence/",
            "content": "",
            "contentType": "application/x-directory",
            "checksumAlgorithm": "SHA256",
            "tags": TAGS,
        },
    )
    assert folder_id == "evidence/" and folder["versionId"] and folder["checksumSha256"]
    note_id, note = driver.create(
        "aws:s3/bucketObjectv2:BucketObjectv2",
        "note",
        {
            "bucket": name,
            "key": "reports/readme.txt",
            "content": "hello",
            "serverSideEncryption": "aws:kms",
            "kmsKeyId": key["arn"],
            "objectLockLegalHoldStatus": "ON",
        },
    )
    assert s3.get_object(Bucket=name, Key="reports/readme.txt")["Body"].read() == b"hello"
    assert s3.get_object_legal_hold(Bucket=name, Key="reports/readme.txt")["LegalHold"]["Status"] == "ON"

    # The policy comes last, as in the program: moto applies its Deny to every object request (no TLS).
    policy = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "DenyInsecureTransport",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": [f"arn:aws:s3:::{name}", f"arn:aws:s3:::{name}/*"],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                }
            ],
        }
    )
    pol = sub("aws:s3/bucketPolicy:BucketPolicy", {"policy": policy})
    assert json.loads(s3.get_bucket_policy(Bucket=name)["Policy"]) == json.loads(policy)
    assert driver.read("aws:s3/bucketPolicy:BucketPolicy", "p", name, pol[1])[1]["policy"] == policy

    # moto denies the object request under this policy; read keeps the state instead of failing a refresh.
    assert driver.read("aws:s3/bucketObjectv2:BucketObjectv2", "f", folder_id, folder)[0] == folder_id

    # Update: tags changed on the bucket.
    bucket = driver.update(
        "aws:s3/bucket:Bucket",
        "bucket",
        name,
        bucket,
        {"bucket": name, "objectLockEnabled": True, "forceDestroy": True, "tags": {"a": "b"}},
    )
    assert s3.get_bucket_tagging(Bucket=name)["TagSet"] == [{"Key": "a", "Value": "b"}]

    # Delete: the bucket with locked objects and versions goes only because forceDestroy is set.
    for token, (rid, state) in (
        ("aws:s3/bucketPolicy:BucketPolicy", pol),
        ("aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration", lock),
        ("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", pab),
        ("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", sse),
    ):
        driver.delete(token, "x", rid, state)
    assert driver.read("aws:s3/bucketPolicy:BucketPolicy", "p", name, pol[1])[0] == ""
    assert (
        driver.read(
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
            "s",
            name,
            sse[1],
        )[0]
        == ""
    )
    # Versioning suspended (after the lock rule is gone: AWS refuses Object Lock on a suspended bucket).
    driver.update(
        "aws:s3/bucketVersioning:BucketVersioning",
        "v",
        name,
        versioning[1],
        {"bucket": name, "versioningConfiguration": {"status": "Suspended"}},
    )
    assert s3.get_bucket_versioning(Bucket=name)["Status"] == "Suspended"
    with pytest.raises(Exception, match="not empty"):
        driver.delete("aws:s3/bucket:Bucket", "bucket", name, {**bucket, "forceDestroy": False})
    driver.delete("aws:s3/bucket:Bucket", "bucket", name, bucket)
    with pytest.raises(ClientError):
        s3.head_bucket(Bucket=name)
    assert driver.read("aws:s3/bucket:Bucket", "bucket", name, bucket)[0] == ""

    driver.delete("aws:kms/alias:Alias", "alias", alias_id, alias)
    driver.delete("aws:kms/key:Key", "key", key_id, key)
    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"] == "PendingDeletion"
    assert driver.read("aws:kms/key:Key", "key", key_id, key)[0] == ""
    del note_id, note, folder


def test_role_policy_and_profile(driver: Driver, aws: Clients) -> None:
    iam = aws("iam")
    trust = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
            ],
        }
    )
    role_id, role = driver.create(
        "aws:iam/role:Role",
        "responder",
        {"assumeRolePolicy": trust, "maxSessionDuration": 3600, "forceDetachPolicies": True, "tags": TAGS},
    )
    assert role_id == role["name"] and role["name"].startswith("responder-")
    assert role["arn"] == f"arn:aws:iam::123456789012:role/{role_id}" and role["uniqueId"]
    assert role["assumeRolePolicy"] == trust  # AWS's reformatting of the same document is not drift
    policy = json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]}
    )
    rp_id, rp = driver.create(
        "aws:iam/rolePolicy:RolePolicy",
        "deny",
        {"role": role_id, "name": "forensics-frozen-deny-all", "policy": policy},
    )
    assert rp_id == f"{role_id}:forensics-frozen-deny-all"
    got = iam.get_role_policy(RoleName=role_id, PolicyName="forensics-frozen-deny-all")["PolicyDocument"]
    assert got == json.loads(policy)
    profile_id, profile = driver.create(
        "aws:iam/instanceProfile:InstanceProfile",
        "profile",
        {"name": "inv1-workstation", "role": role_id, "tags": TAGS},
    )
    assert (
        iam.get_instance_profile(InstanceProfileName=profile_id)["InstanceProfile"]["Roles"][0]["RoleName"]
        == role_id
    )

    role = driver.update(
        "aws:iam/role:Role",
        "responder",
        role_id,
        role,
        {
            "name": role_id,
            "assumeRolePolicy": trust,
            "maxSessionDuration": 7200,
            "forceDetachPolicies": True,
            "tags": TAGS,
        },
    )
    assert iam.get_role(RoleName=role_id)["Role"]["MaxSessionDuration"] == 7200

    driver.delete("aws:iam/instanceProfile:InstanceProfile", "profile", profile_id, profile)
    driver.delete("aws:iam/rolePolicy:RolePolicy", "deny", rp_id, rp)
    with pytest.raises(ClientError):
        iam.get_role_policy(RoleName=role_id, PolicyName="forensics-frozen-deny-all")
    driver.delete("aws:iam/role:Role", "responder", role_id, role)
    with pytest.raises(ClientError):
        iam.get_role(RoleName=role_id)


def test_logs_topic_document_and_parameter(driver: Driver, aws: Clients) -> None:
    topic_id, topic = driver.create("aws:sns/topic:Topic", "alerts", {"name": "inv1-alerts", "tags": TAGS})
    assert topic_id == topic["arn"] == "arn:aws:sns:us-east-1:123456789012:inv1-alerts"
    content = json.dumps(
        {
            "schemaVersion": "1.0",
            "description": "prefs",
            "sessionType": "Standard_Stream",
            "inputs": {"s3BucketName": "", "idleSessionTimeout": "20"},
        }
    )
    doc_id, doc = driver.create(
        "aws:ssm/document:Document",
        "prefs",
        {
            "name": "inv1-session-prefs",
            "documentType": "Session",
            "documentFormat": "JSON",
            "content": content,
            "tags": TAGS,
        },
    )
    assert doc["arn"].endswith(":document/inv1-session-prefs") and doc["content"] == content
    doc = driver.update(
        "aws:ssm/document:Document",
        "prefs",
        doc_id,
        doc,
        {
            "name": "inv1-session-prefs",
            "documentType": "Session",
            "documentFormat": "JSON",
            "content": content,
            "tags": {"only": "this"},
        },
    )
    tags = aws("ssm").list_tags_for_resource(ResourceType="Document", ResourceId=doc_id)["TagList"]
    assert tags == [{"Key": "only", "Value": "this"}]
    driver.delete("aws:ssm/document:Document", "prefs", doc_id, doc)
    driver.delete("aws:sns/topic:Topic", "alerts", topic_id, topic)
    assert driver.read("aws:sns/topic:Topic", "alerts", topic_id, topic)[0] == ""

    aws("ssm").put_parameter(
        Name="/forensics/golden-ami/test", Value="ami-12c6146b", Type="String", Overwrite=True
    )
    param = driver.invoke("aws:ssm/getParameter:getParameter", {"name": "/forensics/golden-ami/test"})
    assert (
        param["value"] == "ami-12c6146b"
        and param["type"] == "String"
        and param["arn"].endswith("parameter/forensics/golden-ami/test")
    )
