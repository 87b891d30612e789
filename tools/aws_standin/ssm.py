"""SSM: document; and the getParameter data source."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from .base import ResourceHandler, StandinError, drop_none, not_found, tag_map
from .datasources import DataSource
from .values import Props


def _same_content(a: str | None, b: str | None) -> bool:
    if a == b:
        return True
    try:
        return bool(json.loads(a or "") == json.loads(b or ""))
    except ValueError:
        return False


class Document(ResourceHandler):
    token = "aws:ssm/document:Document"
    inputs = frozenset(
        {
            "name",
            "content",
            "documentType",
            "documentFormat",
            "targetType",
            "versionName",
            "permissions",
            "attachmentsSources",
        }
    )
    outputs = frozenset(
        {
            "arn",
            "createdDate",
            "defaultVersion",
            "description",
            "documentVersion",
            "hash",
            "hashType",
            "latestVersion",
            "owner",
            "parameters",
            "platformTypes",
            "schemaVersion",
            "status",
            "documentFormat",
            "content",
        }
    )
    replace_on = frozenset({"name", "documentType"})
    taggable = True

    @property
    def ssm(self) -> Any:
        return self.aws.client("ssm")

    def create(self, name: str, news: Props) -> tuple[str, Props]:
        if news.get("permissions") or news.get("attachmentsSources"):
            raise StandinError(
                f"{self.token}: permissions/attachmentsSources are not supported by the local stand-in"
            )
        tags = self.tags_all(news)
        self.ssm.create_document(
            **drop_none(
                {
                    "Name": news["name"],
                    "Content": news["content"],
                    "DocumentType": news["documentType"],
                    "DocumentFormat": news.get("documentFormat") or "JSON",
                    "TargetType": news.get("targetType"),
                    "VersionName": news.get("versionName"),
                    "Tags": [{"Key": k, "Value": v} for k, v in tags.items()] or None,
                }
            )
        )
        return news["name"], self.read(news["name"], news) or {}

    def read(self, resource_id: str, olds: Props) -> Props | None:
        ssm = self.ssm
        try:
            doc = ssm.describe_document(Name=resource_id)["Document"]
        except ClientError as exc:
            if not_found(exc, "InvalidDocument"):
                return None
            raise
        fmt = doc.get("DocumentFormat", "JSON")
        content = ssm.get_document(
            Name=resource_id, DocumentVersion=doc.get("DefaultVersion", "$DEFAULT"), DocumentFormat=fmt
        )["Content"]
        tags = tag_map(
            ssm.list_tags_for_resource(ResourceType="Document", ResourceId=resource_id).get("TagList")
        )
        return {
            "name": resource_id,
            "arn": self.aws.arn("ssm", f"document/{resource_id}"),
            "content": olds.get("content") if _same_content(olds.get("content"), content) else content,
            "documentType": doc.get("DocumentType", ""),
            "documentFormat": fmt,
            "createdDate": doc["CreatedDate"].isoformat() if doc.get("CreatedDate") else "",
            "defaultVersion": doc.get("DefaultVersion", ""),
            "latestVersion": doc.get("LatestVersion", ""),
            "documentVersion": doc.get("DocumentVersion", ""),
            "description": doc.get("Description", ""),
            "hash": doc.get("Hash", ""),
            "hashType": doc.get("HashType", ""),
            "owner": doc.get("Owner", ""),
            "status": doc.get("Status", ""),
            "schemaVersion": doc.get("SchemaVersion", ""),
            # moto reports a placeholder for platform types; AWS lists Windows/Linux/MacOS.
            "platformTypes": [p for p in doc.get("PlatformTypes", []) if "moto" not in p],
            "parameters": [
                {
                    "name": p.get("Name", ""),
                    "type": p.get("Type", ""),
                    "description": p.get("Description", ""),
                    "defaultValue": p.get("DefaultValue", ""),
                }
                for p in doc.get("Parameters", [])
            ],
            **self.tag_outputs(tags, olds),
        }

    def update(self, resource_id: str, olds: Props, news: Props) -> Props:
        ssm = self.ssm
        if not _same_content(olds.get("content"), news.get("content")) or (
            news.get("documentFormat") or "JSON"
        ) != (olds.get("documentFormat") or "JSON"):
            updated = ssm.update_document(
                **drop_none(
                    {
                        "Name": resource_id,
                        "Content": news["content"],
                        "DocumentVersion": "$LATEST",
                        "DocumentFormat": news.get("documentFormat") or "JSON",
                        "TargetType": news.get("targetType"),
                        "VersionName": news.get("versionName"),
                    }
                )
            )["DocumentDescription"]
            ssm.update_document_default_version(Name=resource_id, DocumentVersion=updated["DocumentVersion"])
        to_set, to_remove = self.tag_changes(olds, news)
        if to_remove:
            ssm.remove_tags_from_resource(ResourceType="Document", ResourceId=resource_id, TagKeys=to_remove)
        if to_set:
            ssm.add_tags_to_resource(
                ResourceType="Document",
                ResourceId=resource_id,
                Tags=[{"Key": k, "Value": v} for k, v in to_set.items()],
            )
        return self.read(resource_id, news) or {}

    def delete(self, resource_id: str, olds: Props) -> None:
        try:
            self.ssm.delete_document(Name=resource_id)
        except ClientError as exc:
            if not not_found(exc, "InvalidDocument"):
                raise


def get_parameter(aws: Any, args: Props) -> Props:
    with_decryption = args.get("withDecryption", True)
    try:
        param = aws.client("ssm").get_parameter(Name=args["name"], WithDecryption=bool(with_decryption))[
            "Parameter"
        ]
    except ClientError as exc:
        if not_found(exc, "ParameterNotFound"):
            raise StandinError(f"SSM parameter {args['name']!r} not found") from exc
        raise
    return {
        "id": param["Name"],
        "name": param["Name"],
        "arn": param.get("ARN") or aws.arn("ssm", f"parameter/{param['Name'].lstrip('/')}"),
        "type": param["Type"],
        "value": param["Value"],
        "insecureValue": param["Value"] if param["Type"] != "SecureString" else "",
        "version": param.get("Version", 1),
        "withDecryption": bool(with_decryption),
        "region": aws.region,
    }


HANDLERS: tuple[type[ResourceHandler], ...] = (Document,)

DATA_SOURCES = (
    DataSource(
        token="aws:ssm/getParameter:getParameter",
        result_class="ssm.GetParameterResult",
        args=frozenset({"name", "withDecryption", "region"}),
        results=frozenset(
            {"id", "name", "arn", "type", "value", "insecureValue", "version", "withDecryption", "region"}
        ),
        fn=get_parameter,
    ),
)
