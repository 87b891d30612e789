"""Containment of an affected instance in a source account, and its exact undoing
(``release-containment``)."""
