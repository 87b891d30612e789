"""Zygotes for the Python processes the engine starts locally (the stand-in provider, the policy analyzer).

A zygote (``tools.zygote.server``) imports what one kind of process needs once, then forks a fresh child per
start; the plugin executable the engine runs starts a small launcher (``tools.zygote.launcher``) that hands
the zygote its arguments, environment, working folder and standard streams and mirrors the child's end.
"""
