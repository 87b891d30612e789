"""The Huey instance, chosen by configuration alone: SqliteHuey under data_dir, or RedisHuey for redis://.

Every payload on the queue is signed (HMAC-SHA256 over the pickled task): Huey unpickles what it dequeues,
so an unsigned queue would run the code of whoever can write to its store (Redis, or the SQLite file) on
the workers, which hold the deploy credentials and the state passphrase. A payload whose signature does not
verify is refused before it is unpickled, logged, and never run.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
from pathlib import Path

from huey import Huey, SqliteHuey
from huey.serializer import SignedSerializer

from service.config import Settings, queue_problems
from service.errors import Misconfigured

logger = logging.getLogger(__name__)

HUEY_NAME = "forensics"
# Names the key derivation: a secret shared with another HMAC use (there is none today) derives another key.
SIGNING_SALT = "forensics.jobs.v1"
# The local default's generated secret, in the data folder (only the service's user may read it).
SECRET_FILE = "jobs-signing.key"
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


class RefusedPayload(ValueError):
    """A queue payload without a valid signature: not unpickled, not run."""


class Sha256SignedSerializer(SignedSerializer):  # type: ignore[misc]  # huey ships no type hints
    """Huey's signed serializer with HMAC-SHA256 (Huey's own uses SHA-1) and a logged refusal."""

    def __init__(self, secret: str, salt: str = SIGNING_SALT) -> None:
        super().__init__(secret=secret, salt=salt)
        self._key = hashlib.sha256(self.salt + b"\0" + self.secret).digest()

    def _signature(self, message: bytes) -> bytes:
        return hmac.new(self._key, msg=message, digestmod=hashlib.sha256).hexdigest().encode()

    def _unsign(self, signed: bytes) -> bytes:
        message, separator, signature = signed.rpartition(self.separator)
        if not separator or not hmac.compare_digest(signature, self._signature(message)):
            logger.error("refused a job payload without a valid signature (%d bytes): not run", len(signed))
            raise RefusedPayload("job payload signature missing or wrong: refused, not unpickled")
        return message


def signing_secret(settings: Settings) -> str:
    """The configured secret; without one (the local default) a random one generated once and kept in the
    data folder with mode 0600, so every process on this machine signs and verifies with the same key."""
    if settings.jobs_signing_secret is not None:
        return settings.jobs_signing_secret.get_secret_value()
    path = settings.data_dir / SECRET_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written whole under a name of its own, then linked into place: a process starting at the same time
        # reads either no file or the complete one, and the first link wins.
        draft = path.with_name(f"{SECRET_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_hex(32))
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    secret = path.read_text().strip()
    if not secret:
        raise Misconfigured(f"{path} is empty: delete it (a new secret is generated) or set a secret")
    return secret


def make_huey(settings: Settings) -> Huey:
    problems = queue_problems(settings)
    if problems:  # also for a plain `huey_consumer`, which never builds the app
        raise Misconfigured("refusing to start the job queue:\n- " + "\n- ".join(problems))
    serializer = Sha256SignedSerializer(signing_secret(settings))
    url = settings.jobs_url
    if url and url.startswith(REDIS_SCHEMES):
        from huey import RedisHuey  # needs the `redis` package

        # redis-py reads the password, ACL user and TLS (rediss://, ssl_* query parameters) from the URL. A
        # worker thread waits for a job in a blocking read, as long as jobs_poll_max_delay: it returns at once
        # when a job comes, and it is how long stopping the consumer waits for the thread (huey's own 1 s made
        # every stop of an app on Redis wait about a second).
        return RedisHuey(
            HUEY_NAME,
            url=url,
            results=False,
            utc=True,
            serializer=serializer,
            read_timeout=settings.jobs_poll_max_delay,
        )
    if url and url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
    elif url:
        raise Misconfigured(f"unsupported jobs_url {url!r}: use redis://... or sqlite:///path")
    else:
        path = settings.data_dir / "jobs.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    return SqliteHuey(
        HUEY_NAME, filename=str(path), results=False, utc=True, timeout=30, serializer=serializer
    )
