"""Which signing keys a verifier accepts: a statement names its own key, so the key must be pinned apart.

Asking KMS for "the key the statement names" proves only that *some* key signed it: anyone can make a KMS
key whose policy lets everyone call GetPublicKey and sign a forged manifest with it. A key is trusted only
when the verifier pinned it, by its ARN or by the SHA-256 fingerprint of its public key (DER
SubjectPublicKeyInfo, written ``SHA256:<hex>``), on the command line or in ``FORENSICS_TRUSTED_SIGNING_KEYS``
(ARNs and fingerprints, separated by commas or white space).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from service import statement_signing

ENV_VAR = "FORENSICS_TRUSTED_SIGNING_KEYS"
_KEY_ARN = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$")
_FINGERPRINT = re.compile(r"^(?:sha256:)?([0-9a-f]{64})$", re.IGNORECASE)


def fingerprint_label(hex_digest: str) -> str:
    return f"SHA256:{hex_digest.lower()}"


@dataclass(frozen=True)
class TrustedKeys:
    key_arns: frozenset[str]
    fingerprints: frozenset[str]  # lower-case hex

    @property
    def empty(self) -> bool:
        return not self.key_arns and not self.fingerprints

    def describe(self) -> str:
        names = sorted(self.key_arns) + [fingerprint_label(f) for f in sorted(self.fingerprints)]
        return ", ".join(names) or "none"

    def problem(self, key_arn: str | None, public_key_pem: str) -> str | None:
        """Why this key is not trusted; None when its ARN or its public key's fingerprint is pinned."""
        fingerprint = statement_signing.public_key_fingerprint(public_key_pem)
        if fingerprint in self.fingerprints or (key_arn is not None and key_arn in self.key_arns):
            return None
        return (
            f"the statement was signed by {key_arn or 'an unnamed key'} ({fingerprint_label(fingerprint)}), "
            f"which is not a trusted signing key (trusted: {self.describe()}); a valid signature by any "
            "other key proves nothing"
        )


def parse(key_arns: Iterable[str], fingerprints: Iterable[str], env_value: str | None = None) -> TrustedKeys:
    """The pinned keys from options and the environment variable; a malformed entry is an error, never
    skipped (a typo must not leave the verifier trusting less than it thinks, or nothing)."""
    arns: set[str] = set()
    prints: set[str] = set()
    entries = [*key_arns, *fingerprints, *re.split(r"[\s,]+", env_value or "")]
    for entry in (e.strip() for e in entries):
        if not entry:
            continue
        if _KEY_ARN.match(entry):
            arns.add(entry)
        elif match := _FINGERPRINT.match(entry):
            prints.add(match.group(1).lower())
        else:
            raise ValueError(
                f"{entry!r} is neither a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID; not an alias, "
                "which can be pointed at another key) nor a fingerprint SHA256:<64 hex digits>"
            )
    return TrustedKeys(frozenset(arns), frozenset(prints))
