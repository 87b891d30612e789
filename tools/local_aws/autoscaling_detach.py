"""Auto Scaling ``DetachInstances`` as AWS does it: the detached instances leave the group's load balancers.

AWS: "If there is a Classic Load Balancer attached to your Auto Scaling group, the instance is deregistered
from the load balancer. If there are target groups attached to your Auto Scaling group, the instances are
deregistered from the target groups." moto removes the instance from the group and answers success, but
leaves it registered (it re-registers group members on attach, as AWS does). Registrations made directly,
outside the group's attachments, stay: AWS does not touch them either.
"""

from __future__ import annotations

from typing import Any


def install() -> None:
    from moto.autoscaling import models

    detach = models.AutoScalingBackend.detach_instances

    def detach_instances(self: Any, group_name: str, instance_ids: list[str], should_decrement: bool) -> Any:
        group = self.autoscaling_groups[group_name]
        members = {state.instance.id for state in group.instance_states}
        leaving = [i for i in instance_ids if i in members]
        activities = detach(self, group_name, instance_ids, should_decrement)
        if not leaving:
            return activities
        if group.target_group_arns:
            for target_group in self.elbv2_backend.describe_target_groups(
                target_group_arns=group.target_group_arns, load_balancer_arn=None, names=None
            ):
                # The group registered its members on the group's port for the target group.
                self.elbv2_backend.deregister_targets(
                    target_group.arn, [{"Id": i, "Port": target_group.port} for i in leaving]
                )
        for name in group.load_balancer_names or []:
            self.elb_backend.deregister_instances(name, leaving, from_autoscaling=True)
        return activities

    models.AutoScalingBackend.detach_instances = detach_instances  # type: ignore[method-assign]
