"""The co-op's circle page shows the seats of its member circles apart from its people: each
seat with its circle and its holder, or that it has no holder now; a seat is never among the
people who have left (over HTTP, no browser)."""

from __future__ import annotations

import re
from pathlib import Path

from node.demo.scripted import select
from tests.conftest import Clock
from tests.node.api.world import member_pair
from tests.node.circles import sync
from tests.web.test_sessions import Browserless


def test_a_seat_is_shown_apart_and_never_as_someone_who_left(tmp_path: Path, clock: Clock) -> None:
    # Given: the kitchen is part of the co-op, and selects Cleo as its delegate.
    nodes, coop, kitchen = member_pair(tmp_path, clock)
    try:
        select(nodes["kitchen"], "delegate", kitchen.ids["cleo"])
        sync(nodes)
        ada = Browserless(coop.client.app)  # type: ignore[arg-type]
        assert ada.sign_in(coop.tokens["ada"]).status_code == 303

        # When: Ada opens the co-op's circle page.
        page = ada.client.get("/circle").text

        # Then: the delegate's seat is listed apart, with its circle and holder.
        seats = page.split('id="seats"')[1].split("</table>")[0]
        assert re.search(r"<td[^>]*>Delegate</td><td[^>]*>Kitchen</td><td[^>]*>Cleo</td>", seats), (
            seats
        )
        assert "(delegate of Kitchen)" not in page.split('id="seats"')[0]

        # When: Cleo takes the delegate hat off, and the co-op hears it.
        nodes["kitchen"].hats.take_off_hat(
            kitchen.ids["cleo"], "delegate", kitchen.ids["cleo"], "Too busy this year"
        )
        sync(nodes)
        page = ada.client.get("/circle").text

        # Then: the seat stands with no holder now, and nobody is listed as having left.
        seats = page.split('id="seats"')[1].split("</table>")[0]
        assert re.search(
            r"<td[^>]*>Delegate</td><td[^>]*>Kitchen</td><td[^>]*>no holder now</td>", seats
        )
        assert "people who have left" not in page
        assert "nobody yet" not in page
    finally:
        for node in nodes.values():
            node.close()
