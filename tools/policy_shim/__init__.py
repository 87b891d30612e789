"""The policy analyzer plugin the engine starts (``pulumi-analyzer-policy-python``) and its zygote entry."""
