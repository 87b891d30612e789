"""Bearer API tokens (stored as sha256 hashes) bound to a principal and a role."""
