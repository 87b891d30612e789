"""The engine version is said in one place (pyproject's pulumi pin); the Go wrapper module must agree."""

from tools.build_pulumi_cli import go_module_version, pinned_sdk_version


def test_go_module_requires_the_pinned_sdk_version() -> None:
    pinned = pinned_sdk_version()
    assert go_module_version() == {"pkg": pinned, "sdk": pinned}


def test_installed_python_sdk_matches_the_pin() -> None:
    from importlib.metadata import version

    assert version("pulumi") == pinned_sdk_version()
