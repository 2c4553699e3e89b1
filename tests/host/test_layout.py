"""A host's folder: slugs, the circles it holds, and each circle's settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from node.app.persistence import open_node
from node.host.layout import (
    HostError,
    check_slug,
    circle_settings,
    circle_url,
    is_host,
    slugs,
)
from node.settings import Settings, SettingsError


@pytest.mark.parametrize("slug", ["kitchen", "a", "north-garden", "c3", "x" * 40, "0-1-2"])
def test_a_slug_is_lower_case_letters_and_digits_with_single_hyphens_inside(slug: str) -> None:
    assert check_slug(slug) == slug


@pytest.mark.parametrize(
    "slug", ["", "Kitchen", "-kitchen", "kitchen-", "north--garden", "a_b", "a/b", "..", "x" * 41]
)
def test_anything_else_is_refused_in_one_line(slug: str) -> None:
    with pytest.raises(HostError) as refused:
        check_slug(slug)
    assert "\n" not in str(refused.value) and "lower-case" in str(refused.value)


def test_a_host_holds_the_circles_whose_folders_hold_a_node(tmp_path: Path) -> None:
    host = Settings(data_dir=tmp_path / "host")
    assert not is_host(host.data_dir) and slugs(host.data_dir) == []
    for slug in ("kitchen", "garden"):
        open_node(circle_settings(host, slug)).close()
    (host.data_dir / "circles" / "half-made").mkdir()  # no keys: not a circle
    assert slugs(host.data_dir) == ["garden", "kitchen"]
    assert is_host(host.data_dir)
    assert (host.data_dir / "circles" / "kitchen" / "node.keys").exists()
    assert (host.data_dir / "circles" / "kitchen" / "circle.sqlite").exists()


def test_a_circle_takes_the_hosts_settings_with_its_own_folder(tmp_path: Path) -> None:
    host = Settings(data_dir=tmp_path, encrypt=True, smtp_host="mail.example", smtp_from="a@b.c")
    kitchen = circle_settings(host, "kitchen")
    assert kitchen.data_dir == tmp_path / "circles" / "kitchen"
    assert kitchen.encrypt and kitchen.smtp_host == "mail.example"
    assert kitchen.database_url is None


def test_on_postgresql_each_circle_has_a_schema_named_after_the_hosts() -> None:
    host = Settings(database_url="postgresql://db.example/coop?schema=coop&sslmode=require")
    url = circle_settings(host, "north-garden").database_url
    assert url == "postgresql://db.example/coop?sslmode=require&schema=coop_north_garden"
    bare = Settings(database_url="postgresql://db.example/coop")
    assert circle_settings(bare, "kitchen").database_url == (
        "postgresql://db.example/coop?schema=circles_kitchen"
    )
    long = Settings(database_url=f"postgresql://db.example/coop?schema={'s' * 30}")
    with pytest.raises(SettingsError, match="shorter"):
        circle_settings(long, "x" * 40)


def test_a_circles_url_is_below_the_hosts() -> None:
    assert circle_url("https://coop.example/", "kitchen") == "https://coop.example/c/kitchen"


@pytest.mark.postgres
def test_circles_of_a_host_on_postgresql_keep_their_tables_apart(
    tmp_path: Path, postgres_url: str
) -> None:
    import psycopg
    from psycopg import sql

    host = Settings(data_dir=tmp_path, database_url=postgres_url)
    schema = postgres_url.rpartition("schema=")[2]
    try:
        ids = {}
        for slug in ("kitchen", "garden"):
            node = open_node(circle_settings(host, slug))
            try:
                node.circle.found_circle(
                    name=slug.title(), aim="Feed", domain="Food", founder_name="Ada"
                )
                ids[slug] = node.feed.node_id
            finally:
                node.close()
        for slug in ("kitchen", "garden"):
            node = open_node(circle_settings(host, slug))
            try:
                assert node.feed.node_id == ids[slug]
                assert node.records.get_circle().name == slug.title()
            finally:
                node.close()
    finally:
        with psycopg.connect(postgres_url.partition("?")[0], autocommit=True) as connection:
            for slug in ("kitchen", "garden"):
                connection.execute(
                    sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                        sql.Identifier(f"{schema}_{slug}")
                    )
                )


def test_a_schema_name_is_ascii_so_that_two_circles_never_share_one() -> None:
    from node.app.persistence import postgres_env

    # Thirty-one two-byte letters: the circles' schemas would be 63 characters and more than
    # 63 bytes, and PostgreSQL would cut both to the same name.
    wide = Settings(database_url=f"postgresql://db.example/coop?schema={'é' * 31}")
    for slug in ("kitchen", "garden"):
        with pytest.raises(SettingsError, match="ASCII letters, digits and underscores"):
            circle_settings(wide, slug)
    for schema in ("café", "\uff43\uff4f\uff4f\uff50", "\u0663"):  # isalnum() takes them all
        with pytest.raises(SettingsError, match="ASCII letters, digits and underscores"):
            postgres_env(f"postgresql://db.example/coop?schema={schema}")
    with pytest.raises(SettingsError, match="63"):
        postgres_env(f"postgresql://db.example/coop?schema={'s' * 64}")
    assert postgres_env(f"postgresql://db.example/coop?schema=A_{'s' * 61}")["POSTGRES_SCHEMA"]
