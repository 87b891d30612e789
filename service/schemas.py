"""Schema pieces every layer may use: the strict request model that domain schemas and HTTP routes share."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class StrictModel(BaseModel):
    """Request bodies: unknown fields are an error (422 naming the field), not silently dropped."""

    model_config = ConfigDict(extra="forbid")
