"""An engine child zygote (tools.engine_zygote) of this package's own, for the tests that start the engine
child both ways (afresh and forked) whatever the suite's target: the session's (``engine_zygote``) runs for
the local target only."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tools.engine_zygote import EngineZygote


@pytest.fixture(scope="package")
def own_engine_zygote(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EngineZygote]:
    with EngineZygote(tmp_path_factory.mktemp("engine-zygote") / "engine.sock") as started:
        yield started
