"""deploy/Dockerfile copies what the processes import and serve (docker is not run here: read, not built)."""

from __future__ import annotations

import re
import tomllib

from cityops.settings import PROJECT_ROOT
from tests.deploy.deployfiles import DEPLOY

DOCKERFILE = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
IGNORE = (DEPLOY / "Dockerfile.dockerignore").read_text(encoding="utf-8").splitlines()


def stages() -> list[str]:
    return re.findall(r"^FROM (\S+)", DOCKERFILE, flags=re.MULTILINE)


def copies() -> list[tuple[str | None, str, str]]:
    """(from stage, source, destination) of every COPY."""
    found = []
    for line in DOCKERFILE.splitlines():
        if line.startswith("COPY "):
            words = line.split()[1:]
            stage = words.pop(0).removeprefix("--from=") if words[0].startswith("--from=") else None
            *sources, destination = words
            found += [(stage, source, destination) for source in sources]
    return found


def test_the_runtime_is_python_3_11_slim_with_the_runtime_requirements() -> None:
    assert stages()[-1].startswith("python:3.11-slim")
    requirements = (PROJECT_ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines()
    marker = "# Tests and tooling"
    assert marker in requirements and f"sed '/^{marker}/,$d' requirements.txt" in DOCKERFILE
    runtime = {line.split("==")[0] for line in requirements[:requirements.index(marker)] if "==" in line}
    assert {"gunicorn", "psycopg[binary]", "paho-mqtt", "dash"} <= runtime
    assert "pytest" not in runtime and "pyyaml" not in runtime
    assert (None, "requirements.txt", "./") in copies()
    assert "\nUSER cityops\n" in DOCKERFILE  # not root


def test_every_package_is_copied_and_sent_in_the_build_context() -> None:
    pyproject = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    packages = pyproject["tool"]["setuptools"]["packages"]
    copied = {source for stage, source, _ in copies() if stage is None}
    assert set(packages) <= copied, f"not copied: {sorted(set(packages) - copied)}"
    for package in packages:
        assert (None, package, f"./{package}") in copies()
        assert f"!{package}/**" in IGNORE
    assert (None, "deploy/service_accounts.py", "./deploy/service_accounts.py") in copies()
    assert IGNORE[IGNORE.index("**") - 1].startswith("#") and "**" in IGNORE  # everything else stays out


def test_the_dashboards_browser_assets_are_built_and_copied_where_it_looks() -> None:
    from dashboard import app

    wanted = {p.relative_to(PROJECT_ROOT).as_posix() for p in
              (app.WEBFONT_PACKAGE, app.PLOTLY_BUNDLE.parent, app.DATEFNS_ZH.parent)}
    copied = {destination.removeprefix("./") for stage, _, destination in copies() if stage == "assets"}
    assert copied == wanted
    assert re.search(r"^FROM node:\S+ AS assets$", DOCKERFILE, flags=re.MULTILINE)
    # what the assets stage builds from is in the build context
    for stage, source, _ in copies():
        if source.startswith("tools/"):
            assert stage is None and f"!{source}" in IGNORE
            assert (PROJECT_ROOT / source).exists()
