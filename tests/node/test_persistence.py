"""Settings, SQLite/PostgreSQL configuration, encryption at rest and concurrent commands."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from node.app.persistence import event_store_env, open_node, postgres_env
from node.app.records import CircleRecords
from node.settings import Settings, SettingsError
from node.store.keyfiles import KeyFileError
from tests.conftest import Clock


def test_settings_come_from_the_config_file_and_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "circle-node.toml").write_text("encrypt = true\n")
    settings = Settings.load(tmp_path)
    assert settings.encrypt is True and settings.database_url is None
    url = "postgresql://circle:secret@db.example:5433/coop?schema=kitchen"
    monkeypatch.setenv("CIRCLE_NODE_DATABASE_URL", url)
    monkeypatch.setenv("CIRCLE_NODE_ENCRYPT", "no")
    settings = Settings.load(tmp_path)
    assert settings.database_url == url and settings.encrypt is False
    env = postgres_env(url)
    assert env["POSTGRES_HOST"] == "db.example" and env["POSTGRES_PORT"] == "5433"
    assert env["POSTGRES_USER"] == "circle" and env["POSTGRES_PASSWORD"] == "secret"
    assert env["POSTGRES_DBNAME"] == "coop" and env["POSTGRES_SCHEMA"] == "kitchen"
    monkeypatch.setenv("CIRCLE_NODE_DATA", str(tmp_path / "elsewhere"))
    assert Settings.load().data_dir == tmp_path / "elsewhere"
    assert Settings.load(tmp_path).data_dir == tmp_path  # --data first


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        (
            {"CIRCLE_NODE_DATABASE_URL": "mysql://x/y"},
            "CIRCLE_NODE_DATABASE_URL: must be a postgresql:// URL",
        ),
        (
            {"CIRCLE_NODE_ENCRYPT": "perhaps"},
            "CIRCLE_NODE_ENCRYPT: Input should be a valid boolean",
        ),
        ({"CIRCLE_NODE_ENCRPYT": "1"}, "unknown environment variable CIRCLE_NODE_ENCRPYT"),
        ({"CIRCLE_NODE_DATA_DIR": "/srv"}, "unknown environment variable CIRCLE_NODE_DATA_DIR"),
    ],
)
def test_bad_settings_in_the_environment_are_refused_naming_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, environ: dict[str, str], message: str
) -> None:
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=message):
        Settings.load(tmp_path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # Read as true before (a non-empty string), and a new store was encrypted.
        ('encrypt = "false"', "encrypt must be true or false \\(no quotes\\), not 'false'"),
        ("encrypt = 1", "encrypt must be true or false \\(no quotes\\), not 1"),
        ("database_url = 5432", "database_url must be a quoted URL, not 5432"),
        ('database_url = "mysql://x/y"', "database_url: must be a postgresql:// URL"),
        # A traceback from deep in the store before.
        ('database_url = "postgresql://u@127.0.0.1:notaport/db"', "database_url: has a port"),
        (
            "encrypted = true",
            "'encrypted' is not a setting \\(the settings are database_url, database_pool_size,",
        ),
        ('data_dir = "/srv"', "'data_dir' is not a setting"),
        ("encrypt = ", "is not valid TOML"),
    ],
)
def test_bad_settings_in_the_config_file_are_refused_naming_the_key_and_the_file(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "circle-node.toml"
    path.write_text(text + "\n")
    with pytest.raises(SettingsError, match=message) as refused:
        Settings.load(tmp_path)
    assert str(refused.value).startswith(str(path))


def test_an_empty_variable_is_as_if_unset_and_the_test_suites_own_are_not_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CIRCLE_NODE_ENCRYPT", "")
    monkeypatch.setenv("CIRCLE_NODE_TEST_POSTGRES", "postgresql://x/y")
    monkeypatch.setenv("CIRCLE_NODE_SOAK", "1")
    monkeypatch.setenv("CIRCLE_NODE_PORT", "8470")  # serve's
    assert Settings.load(tmp_path).encrypt is False


def test_sqlite_is_the_default_in_the_data_folder(tmp_path: Path) -> None:
    env = event_store_env(Settings(data_dir=tmp_path / "data"))
    assert env["PERSISTENCE_MODULE"] == "node.store.sqlite_store"
    assert env["SQLITE_DBNAME"] == str(tmp_path / "data" / "circle.sqlite")


def test_the_node_ignores_eventsourcing_variables_in_its_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A stray variable must not send the node's records to another store.
    monkeypatch.setenv("PERSISTENCE_MODULE", "eventsourcing.popo")
    monkeypatch.setenv("CIRCLE_NODE_PERSISTENCE_MODULE", "eventsourcing.popo")
    node = open_node(Settings(data_dir=tmp_path))
    node.circle.found_circle(name="C", aim="A", domain="D", founder_name="F")
    node.close()
    assert (tmp_path / "circle.sqlite").stat().st_size > 0


def test_encryption_at_rest_leaves_no_plaintext_in_the_file(tmp_path: Path, clock: Clock) -> None:
    settings = Settings(data_dir=tmp_path, encrypt=True)
    node = open_node(settings, clock)
    node.circle.found_circle(
        name="Moonflower circle",
        aim="Unmistakable aim text",
        domain="Gardens",
        founder_name="Philippa Quayle",
    )
    node.close()
    stored = b"".join(path.read_bytes() for path in tmp_path.glob("circle.sqlite*"))
    for plaintext in (b"Moonflower", b"Unmistakable aim text", b"Philippa Quayle"):
        assert plaintext not in stored
    # The key sits beside the store, readable by its owner only; the node reads it back.
    assert os.stat(settings.store_key_path).st_mode & 0o777 == 0o600
    reopened = open_node(settings, clock)
    assert reopened.records.get_circle().name == "Moonflower circle"
    reopened.close()
    # Without encryption the same words are plainly there (so the check above can fail).
    plain = tmp_path / "plain"
    node = open_node(Settings(data_dir=plain), clock)
    node.circle.found_circle(name="Moonflower circle", aim="A", domain="D", founder_name="F")
    node.close()
    assert b"Moonflower" in (plain / "circle.sqlite").read_bytes()


def test_an_encrypted_store_opened_without_encryption_is_refused_clearly(tmp_path: Path) -> None:
    open_node(Settings(data_dir=tmp_path, encrypt=True)).close()
    with pytest.raises(SettingsError, match="store is encrypted"):
        open_node(Settings(data_dir=tmp_path))


def _files(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


@pytest.mark.parametrize("made_encrypted", [False, True], ids=["plain", "encrypted"])
def test_turning_encryption_on_or_off_for_a_store_is_refused_before_anything_is_written(
    tmp_path: Path, made_encrypted: bool
) -> None:
    from typer.testing import CliRunner

    from node.cli.main import app

    # Given a node made with encryption on or off.
    node = open_node(Settings(data_dir=tmp_path, encrypt=made_encrypted))
    node.circle.found_circle(name="Kitchen", aim="Feed", domain="Food", founder_name="Ada")
    node_id = node.feed.node_id
    node.close()
    # When its settings say the other.
    config = tmp_path / "circle-node.toml"
    config.write_text(f"encrypt = {'false' if made_encrypted else 'true'}\n")
    before = _files(tmp_path)
    result = CliRunner().invoke(app, ["id", "--data", str(tmp_path)])
    # Then: one line, exit 1, and not a byte written (before, a plain store got a store.key
    # and a traceback, and then refused to start either way).
    assert result.exit_code == 1, result.output
    assert result.output.count("\n") == 1 and result.output.startswith("error: This node's")
    assert str(config) in result.output
    assert _files(tmp_path) == before
    # And it opens as it was made.
    config.unlink()
    again = open_node(Settings(data_dir=tmp_path, encrypt=made_encrypted))
    assert again.feed.node_id == node_id
    again.close()


def test_a_store_key_others_can_read_is_refused(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, encrypt=True)
    open_node(settings).close()
    os.chmod(settings.store_key_path, 0o644)
    with pytest.raises(KeyFileError, match="chmod 600"):
        open_node(settings)


def test_a_command_that_loses_a_race_is_retried(tmp_path: Path, clock: Clock) -> None:
    settings = Settings(data_dir=tmp_path)
    first = open_node(settings, clock)
    second = open_node(settings, clock)
    ada = first.circle.found_circle(name="C", aim="A", domain="D", founder_name="Ada")
    loads = 0
    original = CircleRecords.peek_circle

    def peek_circle_then_race(self: CircleRecords):  # type: ignore[no-untyped-def]
        # A command's unit of work reads the circle once (node/app/work.py), and changes a
        # copy of what it read.
        nonlocal loads
        circle = original(self)
        loads += 1
        if loads == 1:
            # Another process changes the circle between our load and our save.
            second.hats.define_hat(ada, "Gardener", "Grows food", [], ["garden"])
        return circle

    first.records.peek_circle = peek_circle_then_race.__get__(first.records)  # type: ignore[method-assign]
    first.hats.define_hat(ada, "Cook", "Cooks", [], ["kitchen"])
    assert loads == 2
    hats = second.records.get_circle().hats
    assert "gardener" in hats and "cook" in hats
    first.close()
    second.close()
