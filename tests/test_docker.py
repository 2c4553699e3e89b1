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


def serve_envvars() -> dict[str, str]:
    """Environment variables the `serve` command reads, by option name."""
    command = typer.main.get_command(app).commands["serve"]  # type: ignore[attr-defined]
    return {param.name: param.envvar for param in command.params if param.envvar}


def node_envvars() -> set[str]:
    settings = {"CIRCLE_NODE_DATA", "CIRCLE_NODE_DATABASE_URL", "CIRCLE_NODE_ENCRYPT"}
    return settings | set(serve_envvars().values())


def test_the_settings_know_the_variables_of_serve_and_refuse_no_other() -> None:
    from node.settings import SERVE_OPTIONS

    assert set(serve_envvars().values()) == SERVE_OPTIONS


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
    assert "CIRCLE_NODE_HOST" in serve_envvars().values()
