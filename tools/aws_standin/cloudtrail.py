"""CloudTrail: a trail and whether it logs (the day-zero audit trail). The local AWS records the trail's
settings; it delivers no log files."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from .base import ResourceHandler, aws_tags, drop_none, not_found, tag_map
from .values import Props

# pulumi-aws input -> CreateTrail/UpdateTrail parameter.
_SETTINGS = {
    "s3BucketName": "S3BucketName",
    "s3KeyPrefix": "S3KeyPrefix",
    "snsTopicName": "SnsTopicName",
    "includeGlobalServiceEvents": "IncludeGlobalServiceEvents",
    "isMultiRegionTrail": "IsMultiRegionTrail",
    "enableLogFileValidation": "EnableLogFileValidation",
    "isOrganizationTrail": "IsOrganizationTrail",
    "cloudWatchLogsGroupArn": "CloudWatchLogsLogGroupArn",
    "cloudWatchLogsRoleArn": "CloudWatchLogsRoleArn",
    "kmsKeyId": "KmsKeyId",
}
# What AWS reports for each (describe_trails names differ from the create parameters).
_DESCRIBED = {
    "s3BucketName": "S3BucketName",
    "s3KeyPrefix": "S3KeyPrefix",
    "snsTopicName": "SnsTopicName",
    "includeGlobalServiceEvents": "IncludeGlobalServiceEvents",
    "isMultiRegionTrail": "IsMultiRegionTrail",
    "enableLogFileValidation": "LogFileValidationEnabled",
    "isOrganizationTrail": "IsOrganizationTrail",
    "cloudWatchLogsGroupArn": "CloudWatchLogsLogGroupArn",
    "cloudWatchLogsRoleArn": "CloudWatchLogsRoleArn",
    "kmsKeyId": "KmsKeyId",
}
_DEFAULTS: dict[str, Any] = {
    "includeGlobalServiceEvents": True,
    "isMultiRegionTrail": False,
    "enableLogFileValidation": False,
    "isOrganizationTrail": False,
}


class Trail(ResourceHandler):
    token = "aws:cloudtrail/trail:Trail"
    inputs = frozenset({"name", "enableLogging", *_SETTINGS})
    outputs = frozenset({"arn", "name", "homeRegion"})
    replace_on = frozenset({"name"})
    autoname = "name"
    autoname_max_len = 128
    diff_defaults = {**_DEFAULTS, "enableLogging": True}
    taggable = True

    @property
    def cloudtrail(self) -> Any:
        return self.aws.client("cloudtrail")

    def _settings(self, news: Props) -> dict[str, Any]:
        return drop_none({aws: news.get(key) for key, aws in _SETTINGS.items() if news.get(key) != ""})

    def _logging(self, name: str, news: Props) -> None:
        if news.get("enableLogging", True) is False:
            self.cloudtrail.stop_logging(Name=name)
        else:
            self.cloudtrail.start_logging(Name=name)

    def create(self, name: str, news: Props) -> tuple[str, Props]:
        trail = self.cloudtrail.create_trail(
            Name=news["name"], **self._settings(news), TagsList=aws_tags(self.tags_all(news))
        )
        self._logging(news["name"], news)
        return trail["Name"], self.read(trail["Name"], news) or {}

    def read(self, resource_id: str, olds: Props) -> Props | None:
        try:
            found = self.cloudtrail.describe_trails(trailNameList=[resource_id])["trailList"]
        except ClientError as exc:
            if not_found(exc, "TrailNotFoundException"):
                return None
            raise
        if not found:
            return None
        trail = found[0]
        status = self.cloudtrail.get_trail_status(Name=resource_id)
        listed = self.cloudtrail.list_tags(ResourceIdList=[trail["TrailARN"]])["ResourceTagList"]
        tags = tag_map(listed[0].get("TagsList") if listed else None)
        out: Props = {
            "arn": trail["TrailARN"],
            "name": trail["Name"],
            "homeRegion": trail.get("HomeRegion", self.aws.region),
            "enableLogging": bool(status.get("IsLogging")),
            **self.tag_outputs(tags, olds),
        }
        for key, aws in _DESCRIBED.items():
            if aws in trail:
                out[key] = trail[aws]
            elif key in _DEFAULTS:
                out[key] = _DEFAULTS[key]
        return out

    def update(self, resource_id: str, olds: Props, news: Props) -> Props:
        self.cloudtrail.update_trail(Name=resource_id, **self._settings(news))
        self._logging(resource_id, news)
        arn = olds.get("arn") or self.aws.arn("cloudtrail", f"trail/{resource_id}")
        to_set, to_remove = self.tag_changes(olds, news)
        if to_remove:
            self.cloudtrail.remove_tags(ResourceId=arn, TagsList=[{"Key": k} for k in to_remove])
        if to_set:
            self.cloudtrail.add_tags(ResourceId=arn, TagsList=aws_tags(to_set))
        return self.read(resource_id, news) or {}

    def delete(self, resource_id: str, olds: Props) -> None:
        try:
            self.cloudtrail.delete_trail(Name=resource_id)
        except ClientError as exc:
            if not not_found(exc, "TrailNotFoundException"):
                raise


HANDLERS: tuple[type[ResourceHandler], ...] = (Trail,)
