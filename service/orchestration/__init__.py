"""The only package that uses ``pulumi.automation``.

``environment`` owns every Pulumi environment variable; ``stacks`` runs one stack operation in its own OS
process (``runner``) and streams its engine events back; ``errors`` maps engine failures to domain errors.
"""
