"""The job queue runs only payloads the service signed: a pickle pushed straight into the queue's store (the
real Redis, or the SQLite file of the embedded default) is refused before it is unpickled, and never runs."""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import pickle
import stat
import threading
from pathlib import Path

import pytest
from huey import Huey

from service.config import Settings, production_problems
from service.errors import Misconfigured
from service.jobs.queue import SECRET_FILE, make_huey
from tools.local_servers import RedisServer

SECRET = "s" * 48


class _Payload:
    """What an attacker pickles: unpickling it creates ``path`` (code of theirs running on the worker)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (open, (str(self.path), "w"))


def _settings(tmp_path: Path, store: str, redis: RedisServer | None, **extra: object) -> Settings:
    url = redis.url() if store == "redis" and redis is not None else None
    return Settings(target="local", data_dir=tmp_path / "data", jobs_url=url, **extra)  # type: ignore[arg-type]


def _work_once(huey: Huey) -> None:
    """One turn of a Huey worker thread, as the consumer runs it (dequeue, deserialize, execute)."""
    from huey.consumer import Worker

    worker = Worker(huey, threading.Event(), default_delay=0.01, max_delay=0.01, backoff=1.0)
    worker.loop()


@pytest.fixture(params=["sqlite", "redis"])
def store(request: pytest.FixtureRequest) -> tuple[str, RedisServer | None]:
    if request.param == "redis":
        return "redis", request.getfixturevalue("redis_server")
    return "sqlite", None


def test_an_unsigned_pickle_in_the_queue_is_refused_and_never_run(
    tmp_path: Path, store: tuple[str, RedisServer | None], caplog: pytest.LogCaptureFixture
) -> None:
    huey = make_huey(_settings(tmp_path, *store))
    proof = tmp_path / "attacker-ran"
    huey.storage.enqueue(pickle.dumps(_Payload(proof)))  # straight into Redis / the SQLite queue table
    with caplog.at_level(logging.ERROR):
        _work_once(huey)
    assert not proof.exists(), "the worker unpickled an unsigned payload: the attacker's code ran"
    assert "refused a job payload without a valid signature" in caplog.text
    assert huey.pending_count() == 0  # taken off the queue, not retried


def test_a_pickle_signed_with_another_secret_is_refused(
    tmp_path: Path, store: tuple[str, RedisServer | None], caplog: pytest.LogCaptureFixture
) -> None:
    huey = make_huey(_settings(tmp_path, *store, jobs_signing_secret=SECRET))
    proof = tmp_path / "attacker-ran"
    body = pickle.dumps(_Payload(proof))
    guessed = hmac.new(hashlib.sha256(b"forensics.jobs.v1\0" + b"x" * 48).digest(), body, hashlib.sha256)
    huey.storage.enqueue(body + b":" + guessed.hexdigest().encode())
    with caplog.at_level(logging.ERROR):
        _work_once(huey)
    assert not proof.exists()
    assert "refused a job payload" in caplog.text


def test_a_job_the_service_signed_runs(tmp_path: Path, store: tuple[str, RedisServer | None]) -> None:
    huey = make_huey(_settings(tmp_path, *store))
    done = tmp_path / "job-ran"

    @huey.task(name="test.touch")  # type: ignore[misc]
    def touch(path: str) -> None:
        Path(path).write_text("ran")

    touch(str(done))
    assert huey.pending_count() == 1
    _work_once(huey)
    assert done.read_text() == "ran"


def test_the_local_default_secret_is_generated_once_and_private(tmp_path: Path) -> None:
    settings = Settings(target="local", data_dir=tmp_path / "data")
    first = make_huey(settings)
    path = settings.data_dir / SECRET_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(path.read_text()) == 64
    second = make_huey(settings)  # another process on the same data folder: the same key
    message = first.serializer.serialize({"a": 1})
    assert second.serializer.deserialize(message) == {"a": 1}
    assert [p.name for p in path.parent.iterdir() if p.name.startswith(SECRET_FILE)] == [SECRET_FILE]
    assert os.stat(path).st_uid == os.getuid()


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({}, "FORENSICS_JOBS_SIGNING_SECRET"),
        ({"jobs_signing_secret": "too-short"}, "FORENSICS_JOBS_SIGNING_SECRET"),
        ({"jobs_signing_secret": SECRET, "jobs_url": "redis://queue.internal:6379/0"}, "without a password"),
        ({"jobs_signing_secret": SECRET, "jobs_url": "rediss://queue.internal:6379/0"}, "without a password"),
    ],
)
def test_real_aws_refuses_an_unsigned_or_open_queue(
    tmp_path: Path, overrides: dict[str, object], words: str
) -> None:
    settings = Settings(target="aws", data_dir=tmp_path, **overrides)  # type: ignore[arg-type]
    assert any(words in problem for problem in production_problems(settings))
    with pytest.raises(Misconfigured, match=words):
        make_huey(settings)  # also a plain huey_consumer, which never builds the app


def test_real_aws_accepts_a_signed_queue_on_an_authenticated_redis(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    """A password in the URL reaches Redis: the server requires it, and the queue works through it."""
    import redis

    password = "queue-password-0123456789"
    url = redis_server.url()
    admin = redis.Redis.from_url(url)
    admin.execute_command("ACL", "SETUSER", "forensics", "on", f">{password}", "~*", "+@all")
    try:
        with_auth = url.replace("redis://", f"redis://forensics:{password}@")
        settings = Settings(target="aws", data_dir=tmp_path, jobs_url=with_auth, jobs_signing_secret=SECRET)
        assert not [p for p in production_problems(settings) if "JOBS" in p]
        huey = make_huey(settings)
        sent = huey.storage.conn.connection_pool.connection_kwargs
        assert (sent["username"], sent["password"]) == ("forensics", password)
        huey.storage.enqueue(huey.serializer.serialize("hello"))
        assert huey.pending_count() == 1
        wrong = url.replace("redis://", "redis://forensics:wrong@")
        with pytest.raises(redis.AuthenticationError):
            redis.Redis.from_url(wrong).ping()
    finally:
        admin.execute_command("ACL", "DELUSER", "forensics")
        admin.close()
