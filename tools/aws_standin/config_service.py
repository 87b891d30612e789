"""AWS Config: the configuration recorder, its delivery channel and whether it records (day zero). The local
AWS keeps the settings and the recording state; it records no configuration items."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from .base import ResourceHandler, drop_none, not_found
from .values import Props


def _gone(exc: ClientError) -> bool:
    return not_found(exc, "NoSuchConfigurationRecorderException", "NoSuchDeliveryChannelException")


class ConfigHandler(ResourceHandler):
    @property
    def config(self) -> Any:
        return self.aws.client("config")


class Recorder(ConfigHandler):
    token = "aws:cfg/recorder:Recorder"
    inputs = frozenset(
        {
            "name",
            "roleArn",
            "recordingGroup",
            "recordingGroup.allSupported",
            "recordingGroup.includeGlobalResourceTypes",
            "recordingGroup.resourceTypes",
        }
    )
    replace_on = frozenset({"name"})
    autoname = "name"

    def _put(self, news: Props) -> None:
        group = news.get("recordingGroup") or {}
        self.config.put_configuration_recorder(
            ConfigurationRecorder={
                "name": news["name"],
                "roleARN": news["roleArn"],
                "recordingGroup": drop_none(
                    {
                        "allSupported": group.get("allSupported", True),
                        "includeGlobalResourceTypes": group.get("includeGlobalResourceTypes", False),
                        "resourceTypes": group.get("resourceTypes") or None,
                    }
                ),
            }
        )

    def create(self, name: str, news: Props) -> tuple[str, Props]:
        self._put(news)
        return news["name"], {}

    def read(self, resource_id: str, olds: Props) -> Props | None:
        try:
            found = self.config.describe_configuration_recorders(ConfigurationRecorderNames=[resource_id])
        except ClientError as exc:
            if _gone(exc):
                return None
            raise
        recorders = found.get("ConfigurationRecorders") or []
        if not recorders:
            return None
        recorder = recorders[0]
        group = recorder.get("recordingGroup") or {}
        declared = olds.get("recordingGroup") or {}
        return {
            "name": recorder["name"],
            "roleArn": recorder.get("roleARN", ""),
            "recordingGroup": {
                **declared,
                "allSupported": group.get("allSupported", True),
                "includeGlobalResourceTypes": group.get("includeGlobalResourceTypes", False),
            },
        }

    def update(self, resource_id: str, olds: Props, news: Props) -> Props:
        self._put(news)
        return {}

    def delete(self, resource_id: str, olds: Props) -> None:
        try:
            self.config.delete_configuration_recorder(ConfigurationRecorderName=resource_id)
        except ClientError as exc:
            if not _gone(exc):
                raise


class DeliveryChannel(ConfigHandler):
    token = "aws:cfg/deliveryChannel:DeliveryChannel"
    inputs = frozenset({"name", "s3BucketName", "s3KeyPrefix", "snsTopicArn"})
    replace_on = frozenset({"name"})
    autoname = "name"

    def _put(self, news: Props) -> None:
        self.config.put_delivery_channel(
            DeliveryChannel=drop_none(
                {
                    "name": news["name"],
                    "s3BucketName": news["s3BucketName"],
                    "s3KeyPrefix": news.get("s3KeyPrefix") or None,
                    "snsTopicARN": news.get("snsTopicArn") or None,
                }
            )
        )

    def create(self, name: str, news: Props) -> tuple[str, Props]:
        self._put(news)
        return news["name"], {}

    def read(self, resource_id: str, olds: Props) -> Props | None:
        try:
            found = self.config.describe_delivery_channels(DeliveryChannelNames=[resource_id])
        except ClientError as exc:
            if _gone(exc):
                return None
            raise
        channels = found.get("DeliveryChannels") or []
        if not channels:
            return None
        channel = channels[0]
        return drop_none(
            {
                "name": channel["name"],
                "s3BucketName": channel.get("s3BucketName"),
                "s3KeyPrefix": channel.get("s3KeyPrefix"),
                "snsTopicArn": channel.get("snsTopicARN"),
            }
        )

    def update(self, resource_id: str, olds: Props, news: Props) -> Props:
        self._put(news)
        return {}

    def delete(self, resource_id: str, olds: Props) -> None:
        try:
            self.config.delete_delivery_channel(DeliveryChannelName=resource_id)
        except ClientError as exc:
            if not _gone(exc):
                raise


class RecorderStatus(ConfigHandler):
    token = "aws:cfg/recorderStatus:RecorderStatus"
    inputs = frozenset({"name", "isEnabled"})
    replace_on = frozenset({"name"})

    def _apply(self, news: Props) -> None:
        if news.get("isEnabled"):
            self.config.start_configuration_recorder(ConfigurationRecorderName=news["name"])
        else:
            self.config.stop_configuration_recorder(ConfigurationRecorderName=news["name"])

    def create(self, name: str, news: Props) -> tuple[str, Props]:
        self._apply(news)
        return news["name"], {}

    def read(self, resource_id: str, olds: Props) -> Props | None:
        try:
            found = self.config.describe_configuration_recorder_status(
                ConfigurationRecorderNames=[resource_id]
            )
        except ClientError as exc:
            if _gone(exc):
                return None
            raise
        statuses = found.get("ConfigurationRecordersStatus") or []
        if not statuses:
            return None
        return {"name": resource_id, "isEnabled": bool(statuses[0].get("recording"))}

    def update(self, resource_id: str, olds: Props, news: Props) -> Props:
        self._apply(news)
        return {}

    def delete(self, resource_id: str, olds: Props) -> None:
        """Recording stops with the resource, as the real provider does."""
        try:
            self.config.stop_configuration_recorder(ConfigurationRecorderName=resource_id)
        except ClientError as exc:
            if not _gone(exc):
                raise


HANDLERS: tuple[type[ResourceHandler], ...] = (Recorder, DeliveryChannel, RecorderStatus)
