"""Two real nodes on loopback: an appeal against the kitchen's decision crosses to the co-op,
its care and counsel group and its broader circle, and the answers come back; each step taken
through the member API, as the people would.

Cast: the co-op (Equal Care Co-op) and the kitchen (a circle that is part of it, founded with
the co-op as its broader circle); Kai founds the kitchen (its facilitator, who proposes the
policy), Ann and Bo learn in it, Cy founds the co-op.
"""

from __future__ import annotations

import asyncio
import json
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from domain.values import CoopLink, Level, Peering, Purpose
from node.app.joining import join_network
from node.demo.local_cluster import local_cluster
from node.demo.network_cast import Network
from node.demo.scripted import founder, make_active
from tests.e2e.cluster import start_all

pytestmark = pytest.mark.timeout(300)


def _call(url: str, token: str, path: str, body: dict[str, Any] | None = None) -> Any:
    request = urllib.request.Request(
        f"{url}/api{path}",
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="GET" if body is None else "POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def test_an_appeal_crosses_to_the_co_op_and_its_answers_come_back(tmp_path: Path) -> None:
    told: list[str] = []
    with local_cluster(tmp_path, "coop", "kitchen") as nodes:
        network = Network(nodes, told.append)
        tokens: dict[str, str] = {}
        # Given: the co-op, and the kitchen founded as part of it, with Ann and Bo learning.
        with network.open("coop") as coop:
            coop.circle.found_circle(
                name="Equal Care Co-op", aim="Care", domain="Care", founder_name="Cy"
            )
            make_active(coop)
            tokens["cy"] = coop.tokens.issue_token(founder(coop))[1]
        with network.open("kitchen") as kitchen:
            kitchen.circle.found_circle(
                name="Calder Kitchen circle",
                aim="Hot meals",
                domain="Meals",
                founder_name="Kai",
                parent=network.ref("coop"),
            )
            make_active(kitchen)
            tokens["kai"] = kitchen.tokens.issue_token(founder(kitchen))[1]
            for name in ("Ann", "Bo"):
                person = kitchen.people.apply_to_join(name, Level.LEARNING)
                kitchen.people.admit(founder(kitchen), person, Level.LEARNING)
                tokens[name.lower()] = kitchen.tokens.issue_token(person)[1]
        start_all(nodes.values())
        coop_url, kitchen_url = nodes["coop"].url, nodes["kitchen"].url

        # And: the kitchen joins the network through the co-op and becomes part of it.
        with network.open("kitchen") as kitchen:
            asyncio.run(join_network(kitchen, coop_url, kitchen_url, "May we join?"))
        network.until("the join request", lambda: _knows(network, "coop", network.ref("kitchen")))
        network.decide(
            "coop",
            Purpose.ADMIT_TO_NETWORK,
            {"circle": network.ref("kitchen")},
            "Admit the kitchen",
        )
        network.until(
            "the admission",
            lambda: network.relationship("kitchen", "coop").peering == Peering.PEERS,
        )
        network.decide(
            "kitchen", Purpose.APPLY_TO_COOP, {"circle": network.ref("coop")}, "Apply to the co-op"
        )
        network.until(
            "the application",
            lambda: network.relationship("coop", "kitchen").coop == CoopLink.APPLIED,
        )
        network.decide(
            "coop", Purpose.ADMIT_MEMBER, {"circle": network.ref("kitchen")}, "Welcome the kitchen"
        )
        network.until(
            "the welcome",
            lambda: network.relationship("kitchen", "coop").coop == CoopLink.MEMBER_OF,
        )
        # And: the kitchen's rules name the co-op as its care and counsel group, and it
        # consents to a policy (everyone consented but Ann and Bo, who are learning).
        network.decide(
            "kitchen",
            Purpose.CHANGE_RULES,
            {"care_and_counsel": network.ref("coop")},
            "The co-op counsels us",
        )
        network.decide("kitchen", Purpose.ADOPT_POLICY, {}, "Close at eight")
        (decision,) = [
            d["id"]
            for d in _call(kitchen_url, tokens["kai"], "/decisions")["items"]
            if d["title"] == "Close at eight"
        ]

        # When: Ann appeals it, Bo joins her, and Cy appeals it from the co-op's node.
        grounds = {"decision_id": decision, "grounds": "Evening volunteers were not asked"}
        appeal = _call(kitchen_url, tokens["ann"], "/appeals", grounds)["id"]
        _call(kitchen_url, tokens["bo"], f"/appeals/{appeal}/join", {})
        sent = _call(
            coop_url,
            tokens["cy"],
            "/appeals/elsewhere",
            {"circle": network.ref("kitchen"), **grounds, "grounds": "Our members eat late"},
        )
        assert sent["role"] == "sent"

        # Then: the kitchen hears it with three appellants.
        def kitchen_appeal() -> Any:
            return _call(kitchen_url, tokens["kai"], f"/appeals/{appeal}")

        network.until("the third appellant", lambda: kitchen_appeal()["status"] == "being_heard")
        assert kitchen_appeal()["appellants"][2]["person"].startswith(network.ref("coop") + "/")

        # When: the circle does not uphold it, and Ann takes it to the care and counsel group.
        _call(
            kitchen_url,
            tokens["kai"],
            f"/appeals/{appeal}/circle-answer",
            {"upheld": False, "reason": "Evenings are for cleaning"},
        )
        further = _call(kitchen_url, tokens["ann"], f"/appeals/{appeal}/take-further", {})
        assert further["referred_to"] == network.ref("coop")

        # Then: the co-op hears it; it does not uphold it either.
        referred = _referred(network, coop_url, tokens["cy"], "care_and_counsel")
        assert referred["title"] == "Close at eight" and referred["appellant_count"] == 3
        assert referred["origin"] == network.ref("kitchen")
        _call(
            coop_url,
            tokens["cy"],
            f"/appeals/{referred['id']}/answer",
            {"upheld": False, "reason": "Ask again in spring"},
        )
        network.until("the care circle's answer", lambda: len(kitchen_appeal()["answers"]) == 2)

        # When: Bo takes it to the broader circle, which upholds it.
        _call(kitchen_url, tokens["bo"], f"/appeals/{appeal}/take-further", {})
        broader = _referred(network, coop_url, tokens["cy"], "broader_circle")
        _call(
            coop_url,
            tokens["cy"],
            f"/appeals/{broader['id']}/answer",
            {"upheld": True, "reason": "Open until ten"},
        )

        # Then: the broader circle's answer comes back, final.
        network.until("the broader circle's answer", lambda: kitchen_appeal()["final"])
        answers = kitchen_appeal()["answers"]
        assert [(a["hearing"], a["upheld"], a["by"]) for a in answers[1:]] == [
            ("care_and_counsel", False, network.ref("coop")),
            ("broader_circle", True, network.ref("coop")),
        ]
        assert kitchen_appeal()["status"] == "upheld"
        total = _call(kitchen_url, tokens["kai"], "/logbook?limit=1")["total"]
        last = f"/logbook?offset={max(0, total - 20)}&limit=20"
        logbook = json.dumps(_call(kitchen_url, tokens["kai"], last))
        assert "the broader circle, upheld the appeal against" in logbook


def _knows(network: Network, key: str, other: str) -> bool:
    with network.open(key) as node:
        return any(rel.other == other for rel in node.relations.relationships())


def _referred(network: Network, url: str, token: str, hearing: str) -> Any:
    found: list[Any] = []

    def arrived() -> bool:
        items = _call(url, token, "/appeals?role=referred_to_us")["items"]
        found[:] = [a for a in items if a["hearing"] == hearing]
        return bool(found)

    network.until(f"the referral to the {hearing.replace('_', ' ')}", arrived)
    return found[0]
