"""The Huey instance, chosen by configuration alone: SqliteHuey under data_dir, or RedisHuey for redis://."""

from __future__ import annotations

from pathlib import Path

from huey import Huey, SqliteHuey

from service.config import Settings

HUEY_NAME = "forensics"


def make_huey(settings: Settings) -> Huey:
    url = settings.jobs_url
    if url and url.startswith(("redis://", "rediss://", "unix://")):
        from huey import RedisHuey  # needs the `redis` package

        return RedisHuey(HUEY_NAME, url=url, results=False, utc=True)
    if url and url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
    elif url:
        raise ValueError(f"unsupported jobs_url {url!r}: use redis://... or sqlite:///path")
    else:
        path = settings.data_dir / "jobs.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    return SqliteHuey(HUEY_NAME, filename=str(path), results=False, utc=True, timeout=30)
