"""`serve`'s settings: from the config file, the environment and the flags (a flag wins over the
environment, which wins over the file), the secrets read from files that `*_FILE` variables
name, and the one-line refusals naming the flag, the variable or the file and key.

(The store's and the mail's settings are tested in test_persistence.py and test_mail.py.)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import uvicorn
from typer.testing import CliRunner

from node.cli.main import app
from node.http.front import RequestLog
from node.settings import Settings, SettingsError


@pytest.fixture(autouse=True)
def _no_settings_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in os.environ:
        if name.startswith("CIRCLE_NODE_") and not name.startswith("CIRCLE_NODE_TEST_"):
            monkeypatch.delenv(name)


def write_config(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "circle-node.toml"
    path.write_text(text)
    return path


def test_serve_options_have_defaults_and_come_from_the_file_the_environment_and_the_flags(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given no settings at all, the defaults of `serve`.
    plain = Settings.load(tmp_path)
    assert (plain.host, plain.port, plain.url, plain.threads, plain.workers) == (
        "127.0.0.1",
        8470,
        None,
        4,
        1,
    )
    assert plain.trusted_proxies == () and plain.log_level == "info" and plain.access_log
    # Given a config file that sets each,
    write_config(
        tmp_path,
        'host = "0.0.0.0"\nport = 9000\nurl = "https://kitchen.example"\npull_interval = 5\n'
        "request_timeout = 12.5\nthreads = 8\nworkers = 3\npulls_at_once = 16\n"
        "push_poll_interval = 120\nmail_poll_interval = 600.5\n"
        'trusted_proxies = ["10.0.0.2", "172.16.0.0/12"]\nlog_level = "warning"\n'
        "access_log = false\n",
    )
    from_file = Settings.load(tmp_path)
    assert from_file.host == "0.0.0.0" and from_file.port == 9000
    assert from_file.url == "https://kitchen.example" and from_file.pull_interval == 5.0
    assert from_file.request_timeout == 12.5 and from_file.threads == 8
    assert from_file.workers == 3 and from_file.trusted_proxies == ("10.0.0.2/32", "172.16.0.0/12")
    assert from_file.log_level == "warning" and from_file.access_log is False
    assert (from_file.pulls_at_once, from_file.push_poll_interval) == (16, 120.0)
    assert from_file.mail_poll_interval == 600.5
    # the environment wins over the file (addresses separated by commas, a level in any case),
    monkeypatch.setenv("CIRCLE_NODE_PORT", "9001")
    monkeypatch.setenv("CIRCLE_NODE_TRUSTED_PROXIES", "192.168.1.10, ::1")
    monkeypatch.setenv("CIRCLE_NODE_LOG_LEVEL", "DEBUG")
    monkeypatch.setenv("CIRCLE_NODE_ACCESS_LOG", "yes")
    from_environment = Settings.load(tmp_path)
    assert from_environment.port == 9001 and from_environment.log_level == "debug"
    assert from_environment.trusted_proxies == ("192.168.1.10/32", "::1/128")
    assert from_environment.access_log is True and from_environment.threads == 8
    # and a flag given wins over both; a flag not given (None) changes nothing.
    flags = {"port": 9002, "threads": None, "access_log": False}
    from_flags = Settings.load(tmp_path, flags)
    assert from_flags.port == 9002 and from_flags.threads == 8 and from_flags.access_log is False


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('port = "8470"', "port must be a port number \\(no quotes\\), not '8470'"),
        ("port = 70000", "port: Input should be less than or equal to 65535"),
        ("threads = 0", "threads: Input should be greater than or equal to 1"),
        ('access_log = "no"', "access_log must be true or false \\(no quotes\\)"),
        ('trusted_proxies = "10.0.0.2"', "trusted_proxies must be a list of quoted addresses"),
        ('trusted_proxies = ["10.0.0.2/8"]', "trusted_proxies: '10.0.0.2/8' is not an IP"),
        ('log_level = "loud"', "log_level: Input should be 'debug', 'info', 'warning' or"),
        ('url = "kitchen.example"', "url: must be an http:// or https:// URL"),
        ("pull_interval = 0", "pull_interval: Input should be greater than 0"),
        ("pulls_at_once = 0", "pulls_at_once: Input should be greater than or equal to 1"),
        ("pulls_at_once = 2.5", "pulls_at_once must be a whole number \\(no quotes\\)"),
        ("push_poll_interval = 0.5", "push_poll_interval: Input should be greater than or"),
        ('mail_poll_interval = "5"', "mail_poll_interval must be a number of seconds"),
        ("host = 1", "host must be quoted text, not 1"),
    ],
)
def test_a_bad_serve_setting_in_the_file_is_refused_naming_the_key_and_the_file(
    tmp_path: Path, text: str, message: str
) -> None:
    path = write_config(tmp_path, text + "\n")
    with pytest.raises(SettingsError, match=message) as refused:
        Settings.load(tmp_path)
    assert str(refused.value).startswith(str(path)) and "\n" not in str(refused.value)


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("CIRCLE_NODE_PORT", "eighty", "CIRCLE_NODE_PORT: Input should be a valid integer"),
        ("CIRCLE_NODE_WORKERS", "0", "CIRCLE_NODE_WORKERS: Input should be greater than or"),
        ("CIRCLE_NODE_TRUSTED_PROXIES", "10.0.0.2,proxy", "CIRCLE_NODE_TRUSTED_PROXIES: 'proxy'"),
        ("CIRCLE_NODE_THREAD", "8", "unknown environment variable CIRCLE_NODE_THREAD"),
    ],
)
def test_a_bad_serve_setting_in_the_environment_is_refused_naming_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    write_config(tmp_path, "port = 9000\n")
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError, match=message):
        Settings.load(tmp_path)


def test_a_bad_flag_is_refused_naming_the_flag(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"^--trusted-proxies: 'proxy\.example' is not an IP"):
        Settings.load(tmp_path, {"trusted_proxies": "proxy.example"})
    with pytest.raises(SettingsError, match=r"^--log-level: Input should be"):
        Settings.load(tmp_path, {"log_level": "loud"})


def test_secrets_come_from_the_files_their_variables_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the secrets as Docker mounts them: a file each, ending with a line ending.
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "smtp_password").write_text("mail s3cret\n")
    (secrets / "database_password").write_text("db/s3cret@x\n")
    write_config(
        tmp_path / "node", 'database_url = "postgresql://circle@db.example:5432/coop?schema=k"\n'
    )
    monkeypatch.setenv("CIRCLE_NODE_SMTP_PASSWORD_FILE", str(secrets / "smtp_password"))
    monkeypatch.setenv("CIRCLE_NODE_DATABASE_PASSWORD_FILE", str(secrets / "database_password"))
    settings = Settings.load(tmp_path / "node")
    # Then each is the file's text without its last line ending; the database's goes into the
    # URL (quoted), where the store reads it.
    assert settings.smtp_password is not None
    assert settings.smtp_password.get_secret_value() == "mail s3cret"
    from node.app.persistence import postgres_env

    assert (
        settings.database_url == "postgresql://circle:db%2Fs3cret%40x@db.example:5432/coop?schema=k"
    )
    assert postgres_env(settings.database_url)["POSTGRES_PASSWORD"] == "db/s3cret@x"
    assert "s3cret" not in repr(settings.smtp_password)


def test_a_secret_file_that_cannot_be_read_is_one_line_that_names_the_variable_and_not_the_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CIRCLE_NODE_SMTP_PASSWORD_FILE", str(tmp_path / "missing"))
    with pytest.raises(SettingsError) as refused:
        Settings.load(tmp_path / "node")
    assert str(refused.value) == (
        f"CIRCLE_NODE_SMTP_PASSWORD_FILE: cannot read {tmp_path / 'missing'}: "
        "No such file or directory"
    )
    # Both the secret and its file: which one was meant is not guessed.
    (tmp_path / "password").write_text("s3cret")
    monkeypatch.setenv("CIRCLE_NODE_SMTP_PASSWORD_FILE", str(tmp_path / "password"))
    monkeypatch.setenv("CIRCLE_NODE_SMTP_PASSWORD", "other")
    with pytest.raises(SettingsError, match="CIRCLE_NODE_SMTP_PASSWORD is set too") as refused:
        Settings.load(tmp_path / "node")
    assert "s3cret" not in str(refused.value) and "other" not in str(refused.value)
    # An empty file is refused too (a secret left out by mistake).
    monkeypatch.delenv("CIRCLE_NODE_SMTP_PASSWORD")
    (tmp_path / "password").write_text("\n")
    with pytest.raises(SettingsError, match="is empty"):
        Settings.load(tmp_path / "node")


def test_a_database_password_goes_with_a_url_that_holds_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CIRCLE_NODE_DATABASE_PASSWORD", "s3cret")
    with pytest.raises(
        SettingsError, match=r"^CIRCLE_NODE_DATABASE_PASSWORD: .* needs a database_url"
    ):
        Settings.load(tmp_path)
    path = write_config(tmp_path, 'database_url = "postgresql://circle:old@db/coop"\n')
    with pytest.raises(SettingsError, match=f"{path}: database_url holds a password already"):
        Settings.load(tmp_path)


def test_serve_takes_its_options_from_the_settings_and_the_flags_over_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a node whose config file sets where it is served,
    runner = CliRunner()
    data = tmp_path / "node"
    founded = runner.invoke(
        app,
        [
            *("init", "--data", str(data), "--name", "Garden", "--aim", "Grow"),
            *("--domain", "The garden", "--founder", "Ada"),
        ],
    )
    assert founded.exit_code == 0, founded.output
    write_config(data, 'url = "https://garden.example"\nport = 0\nthreads = 2\n')
    configs: list[uvicorn.Config] = []
    monkeypatch.setattr("node.logs.configure", lambda stream, level: configs.append(level))
    monkeypatch.setattr("node.cli.serving.out_of_the_collectors_way", lambda: None)
    monkeypatch.setattr(uvicorn.Server, "run", lambda server, sockets: configs.append(server))
    served = runner.invoke(app, ["serve", "--data", str(data)])
    assert served.exit_code == 0, served.output
    assert "at https://garden.example" in served.output
    # when a flag is given, it wins; the environment wins over the file.
    monkeypatch.setenv("CIRCLE_NODE_LOG_LEVEL", "warning")
    served = runner.invoke(app, ["serve", "--data", str(data), "--url", "https://g.example"])
    assert served.exit_code == 0, served.output
    assert "at https://g.example" in served.output and configs[-2] == "warning"
    # The app is served behind the node's own front (node/http/front.py), not uvicorn's
    # proxy headers (which would believe 127.0.0.1 whatever trusted_proxies says).
    server = configs[-1]
    # One layer in front: IPv4-mapped peers made IPv4 first, then the request id and the log.
    assert isinstance(server, uvicorn.Server) and isinstance(server.config.app, RequestLog)
    assert server.config.proxy_headers is False and server.config.access_log is False
    # A bad value in the environment is one line naming it, and nothing is served.
    monkeypatch.setenv("CIRCLE_NODE_THREADS", "many")
    refused = runner.invoke(app, ["serve", "--data", str(data)])
    assert refused.exit_code == 1
    assert refused.output.strip().splitlines() == [
        "error: CIRCLE_NODE_THREADS: Input should be a valid integer, unable to parse string "
        "as an integer"
    ]


def test_serve_gives_the_background_its_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import node.http.server
    from node.http.server_options import ServerOptions
    from node.network.delivery import PULLS_AT_ONCE

    # The settings' defaults are the background's own.
    defaults, plain = Settings(data_dir=tmp_path), ServerOptions(public_url="http://x")
    assert defaults.pulls_at_once == PULLS_AT_ONCE == plain.pulls_at_once
    assert defaults.push_poll_interval == plain.poll_interval
    assert defaults.mail_poll_interval == plain.mail_interval
    # Given a node, and its pulls and polls set in the file and by flags,
    runner = CliRunner()
    data = tmp_path / "node"
    founded = runner.invoke(
        app,
        [
            *("init", "--data", str(data), "--name", "Garden", "--aim", "Grow"),
            *("--domain", "The garden", "--founder", "Ada"),
        ],
    )
    assert founded.exit_code == 0, founded.output
    write_config(data, "port = 0\npulls_at_once = 3\nmail_poll_interval = 900\n")
    given: list[ServerOptions] = []
    create_app = node.http.server.create_app

    def creating(*args: Any, **kwargs: Any) -> Any:
        given.append(args[2])
        return create_app(*args, **kwargs)

    monkeypatch.setattr(node.http.server, "create_app", creating)
    monkeypatch.setattr("node.logs.configure", lambda stream, level: None)
    monkeypatch.setattr("node.cli.serving.out_of_the_collectors_way", lambda: None)
    monkeypatch.setattr(uvicorn.Server, "run", lambda server, sockets: None)
    served = runner.invoke(
        app, ["serve", "--data", str(data), "--pulls-at-once", "5", "--push-poll-interval", "30"]
    )
    # then serving gives them to the background (node/http/background.py).
    assert served.exit_code == 0, served.output
    (options,) = given
    assert (options.pulls_at_once, options.poll_interval, options.mail_interval) == (5, 30, 900)
