"""Request bodies of POST /v1/investigations/{id}/containment and .../release-containment."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from service.schemas import INSTANCE_ID


class _Instance(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source_account_id: str = Field(pattern=r"^[0-9]{12}$", description="the affected account")
    region: str = Field(pattern=r"^[a-z]{2}(-[a-z]+)+-[0-9]$", description="where the instance runs")
    instance_id: str = Field(pattern=INSTANCE_ID)
    reason: str | None = Field(default=None, max_length=500)


class ContainRequest(_Instance):
    """Isolate one instance of the affected account; nothing is stopped or terminated."""

    isolate_subnet_with_nacl: bool = Field(
        default=False,
        description=(
            "Also swap the network ACL of the instance's subnet(s) for a deny-all one: a network ACL is "
            "stateless, so it cuts connections the security groups still track; it isolates every instance "
            "in those subnets"
        ),
    )


class ReleaseContainmentRequest(_Instance):
    """Restore exactly what the containment recorded (two-person rule)."""
