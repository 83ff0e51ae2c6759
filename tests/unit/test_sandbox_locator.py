"""The sandbox ships with the repository, not the installed package: how the library finds it, and what it says
when it cannot (postdeploy.local.sandbox_package)."""

import importlib.metadata

import pytest

from postdeploy import local
from postdeploy.errors import SandboxStartError


def test_the_repository_sandbox_is_found_with_its_launcher_and_cli():
    package = local.sandbox_package()
    assert callable(package.launcher.start) and callable(package.cli.main)


def test_outside_a_checkout_the_error_says_where_the_sandbox_comes_from(tmp_path, monkeypatch):
    monkeypatch.setattr(local, "_import_sandbox", lambda: None)
    with pytest.raises(SandboxStartError, match="ships with the postdeploy repository, not with the installed package"):
        local.sandbox_package(tmp_path)


def test_missing_server_dependencies_are_named_with_the_install_command(monkeypatch):
    monkeypatch.setattr(importlib.metadata, "requires", lambda name: [
        "httpx>=0.27", 'fastapi>=0.110; extra == "sandbox"', 'no-such-dist-pd>=1; extra == "sandbox"',
        'also-missing-pd; extra == "dev"'])
    assert local._missing_requirements("sandbox") == ["no-such-dist-pd"]
    with pytest.raises(SandboxStartError, match=r"\(no-such-dist-pd\); install them with `pip install -e '\.\[sandbox\]'`"):
        local.sandbox_package()
