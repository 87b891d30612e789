"""Schema pieces every layer may use: the strict request model and the AWS identifier patterns."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class StrictModel(BaseModel):
    """Request bodies: unknown fields are an error (422 naming the field), not silently dropped."""

    model_config = ConfigDict(extra="forbid")


SNAPSHOT_ID = r"^snap-[0-9a-f]{8,17}$"
INSTANCE_ID = r"^i-[0-9a-f]{8,17}$"
