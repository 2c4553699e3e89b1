"""Docker: no engine runs here, so the compose file and the Dockerfile are checked against the
node's actual settings and command line (what a container would be started with)."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlparse

import pytest
import typer.main
import yaml

from node.cli.main import app
from node.settings import Settings

DOCKER = Path(__file__).resolve().parents[1] / "docker"
NODES = ("coop", "kitchen", "garden")


def compose() -> dict:  # type: ignore[type-arg]
    return yaml.safe_load((DOCKER / "compose.yaml").read_text())


def node_envvars() -> set[str]:
    """Environment variables the node reads (node/settings.py: every setting, `serve`'s too)."""
    from node.settings import known_variables

    return set(known_variables())


def test_every_option_of_serve_is_a_setting() -> None:
    # `serve`'s flags override the settings of the same name, read from the environment and
    # the config file (node/cli/serving.py): none is read from the environment on its own.
    from node.settings import FILE_KEYS

    command = typer.main.get_command(app).commands["serve"]  # type: ignore[attr-defined]
    options = {param.name for param in command.params} - {"data"}
    assert options <= set(FILE_KEYS)
    assert not [param.name for param in command.params if param.envvar]


def test_compose_has_a_coop_two_circles_and_postgres() -> None:
    services = compose()["services"]
    assert set(services) == {"postgres", *NODES}
    assert services["postgres"]["healthcheck"]["test"][0] == "CMD-SHELL"
    assert set(compose()["volumes"]) == {"postgres-data", *(f"{n}-data" for n in NODES)}


def test_each_node_is_configured_with_settings_the_node_reads(tmp_path: Path) -> None:
    services = compose()["services"]
    postgres = services["postgres"]["environment"]
    for name in NODES:
        service = services[name]
        env = {key: str(value) for key, value in service["environment"].items()}
        # Only variables the node reads, and they load as valid settings.
        assert set(env) <= node_envvars(), name
        with pytest.MonkeyPatch.context() as environment:
            for variable in os.environ:
                if variable.startswith("CIRCLE_NODE_"):
                    environment.delenv(variable)
            for variable, value in env.items():
                environment.setenv(variable, value)
            settings = Settings.load(None)
        assert str(settings.data_dir) == env["CIRCLE_NODE_DATA"]
        # Its data folder is a volume of its own.
        assert service["volumes"] == [f"{name}-data:{env['CIRCLE_NODE_DATA']}"]
        # Peers reach it by its service name on the port it listens on, published outside.
        public = urlparse(env["CIRCLE_NODE_URL"])
        assert public.hostname == name and public.port == int(env["CIRCLE_NODE_PORT"])
        assert any(p.endswith(f":{env['CIRCLE_NODE_PORT']}") for p in service["ports"])
        # Its healthcheck asks /healthz on that port.
        check = " ".join(service["healthcheck"]["test"])
        assert f"127.0.0.1:{env['CIRCLE_NODE_PORT']}/healthz" in check
        # The co-op uses PostgreSQL (the compose service, its database and user); the circles
        # SQLite in their volume, encrypted at rest.
        if name == "coop":
            url = urlparse(settings.database_url or "")
            assert url.hostname == "postgres" and url.path == f"/{postgres['POSTGRES_DB']}"
            assert url.username == postgres["POSTGRES_USER"]
            assert url.password == postgres["POSTGRES_PASSWORD"]
            assert service["depends_on"]["postgres"]["condition"] == "service_healthy"
        else:
            assert settings.database_url is None and settings.encrypt
            assert service["depends_on"]["coop"]["condition"] == "service_healthy"


def test_the_image_is_slim_non_root_and_checks_its_health() -> None:
    lines = [line.strip() for line in (DOCKER / "Dockerfile").read_text().splitlines()]
    assert lines[next(i for i, line in enumerate(lines) if line.startswith("FROM"))].endswith(
        "-slim"
    )
    user = next(line for line in lines if line.startswith("USER "))
    assert user.split()[1] not in ("root", "0")
    assert any(line.startswith("HEALTHCHECK") for line in lines)
    assert "/healthz" in (DOCKER / "Dockerfile").read_text()
    assert 'ENTRYPOINT ["circle-node"]' in lines and 'CMD ["serve"]' in lines
    # The ports and folders it declares are the ones the node is told to use.
    text = (DOCKER / "Dockerfile").read_text()
    assert "EXPOSE 8470" in text and "CIRCLE_NODE_PORT=8470" in text
    assert "CIRCLE_NODE_DATA=/data" in text and 'VOLUME ["/data"]' in text
    assert "CIRCLE_NODE_HOST" in node_envvars()
