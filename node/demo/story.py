"""The demo: a federation of four circle nodes on this machine tells its story (the default),
or one circle's story run through a single node (`--one-circle`). Both use SQLite in a fresh
temporary folder."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from node.app.logbook import read_logbook
from node.app.node import CircleNode
from node.app.persistence import open_node
from node.settings import Settings


class StoryClock:
    """The demo's clock: real time, which the story can move forward by whole days."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, days: int) -> None:
        self.offset += timedelta(days=days)


def run_story(
    node: CircleNode, say: Callable[[str], None], advance_days: Callable[[int], None]
) -> None:
    """A care circle is founded, selects its hats, decides by consent and lets someone go.

    `advance_days` moves the node's clock forward, so that a review can come due.
    """
    say("Founding the circle")
    ada = node.circle.found_circle(
        name="Calder Valley Care Circle",
        aim="Good care at home for older people in the valley, arranged by those who give "
        "and receive it",
        domain="Care teams, rotas and support in the Calder Valley",
        founder_name="Ada Okafor",
        kind="local",
        parent="Equal Care Co-op",
    )
    ben = node.people.add_founding_member(ada, "Ben Hughes")
    cleo = node.people.add_founding_member(ada, "Cleo Marsh")
    say("  Ada founded it; Ben and Cleo joined as founding members")

    say("The aim is formed together")
    # Nobody wears the facilitator hat yet: any full participant runs the process.
    aim = node.proposals.draft_proposal(
        ben,
        "Our aim",
        "Ada founded us with a draft aim; we revisited it together at our first meeting.",
        purpose="change_aim",
        subject={
            "aim": "Good care at home for older people in the valley, arranged by those who "
            "give and receive it, close to where they live",
            "mission_link": "Equal Care's mission is care that is good for those who give "
            "and receive it; in the valley, that means care teams of neighbours",
        },
    )
    node.proposals.present(ben, aim)
    node.proposals.open_reactions(ada, aim)
    node.proposals.react(cleo, aim, "Close to home is what people ask us for.")
    node.consent.open_consent_round(ada, aim)
    for person in (ada, ben, cleo):
        node.consent.consent(person, aim)
    node.consent.close_consent_round(ada, aim)
    say("  Ben proposed the aim, revisited, and how it links to Equal Care's mission;")
    say("  Ada facilitated (nobody wears that hat yet); all three consented")

    say("People join")
    dev = node.people.apply_to_join("Dev Patel", level="full")
    node.people.start_trial(ada, dev, sessions=2)
    node.people.hold_trial_session(ada, dev)
    node.people.hold_trial_session(ada, dev)
    node.people.admit(ada, dev, level="full")
    eli = node.people.apply_to_join("Eli Brown", level="learning")
    node.people.admit(ada, eli, level="learning")
    say("  Dev joined after a trial of two sessions; Eli joined as a learning participant")
    node.aims.set_aims(
        eli,
        eli,
        ["Visit the people on the Hebden Bridge round each week"],
        ["Learn to plan a rota", "Become a full participant within the year"],
    )
    say("  Eli set out her own aims and development goals, for the circle to read")

    say("Hats are selected")
    full = [ada, ben, cleo, dev]

    def select(hat_id: str, nominations: dict[str, str], candidate: str, host: str) -> None:
        selection = node.hats.open_selection(host, hat_id)
        for nominator, nominee in nominations.items():
            node.hats.nominate(
                nominator, selection, nominee, "They listen well and keep us on track"
            )
        node.hats.open_change_round(host, selection)
        node.hats.propose_candidate(host, selection, candidate, "Most nominations, and willing")
        for person in full:
            node.consent.consent(person, selection)
        node.consent.close_consent_round(host, selection)

    select("facilitator", {ada: ben, ben: cleo, cleo: ben, dev: ben}, ben, host=ada)
    facilitator = ben
    select("secretary", {ada: cleo, ben: cleo, cleo: dev, dev: cleo}, cleo, host=ben)
    secretary = cleo
    rota = node.hats.define_hat(
        ada,
        "Rota holder",
        "Keeps the care rota covered",
        ["Publish the weekly rota", "Find cover for gaps"],
        ["rota", "cover"],
        default_term_months=6,
    )
    select(rota, {ada: dev, ben: dev, cleo: dev, dev: ada}, dev, host=ben)
    node.circle.activate_circle(ada)
    say("  Ben facilitates, Cleo keeps the logbook, Dev holds the rota")
    say("  With its aim formed and its facilitator and secretary selected, the circle is active")

    say("A proposal meets an objection")
    proposal = node.proposals.draft_proposal(
        ada,
        "Paid travel time",
        "Care workers are paid for travel time between visits at their usual rate.",
    )
    node.proposals.present(ada, proposal)
    question = node.proposals.ask_question(
        eli, proposal, "Does this include travel to the first visit?"
    )
    node.proposals.answer_question(
        ada, proposal, question, "Yes, from home to the first visit too."
    )
    node.proposals.open_reactions(facilitator, proposal)
    node.proposals.react(dev, proposal, "Long overdue.")
    node.proposals.react(eli, proposal, "Will the budget hold?")
    node.consent.open_consent_round(facilitator, proposal)
    node.consent.consent(ada, proposal)
    node.consent.consent(ben, proposal)
    node.consent.consent(dev, proposal, concern="Let us watch the budget")
    objection = node.consent.raise_objection(
        cleo,
        proposal,
        "Without a limit, a single long trip could use a month's budget and put the "
        "circle's other care at risk.",
    )
    node.consent.close_consent_round(facilitator, proposal)
    say("  Cleo objected: the budget could run out; the round moved to integration")
    node.consent.integrate(
        facilitator,
        proposal,
        "add_measure",
        "Travel over 45 minutes is agreed with the rota holder first; the budget is "
        "checked at every monthly meeting.",
        [objection],
    )
    node.consent.open_consent_round(facilitator, proposal)
    for person in full:
        node.consent.consent(person, proposal)
    node.consent.close_consent_round(facilitator, proposal)
    policy = node.records.list_decisions()[-1]
    say(f"  Consented after integration: {policy.title!r}, review by {policy.review_date}")

    say("An everyday decision")
    node.decisions.take_everyday_decision(
        dev,
        rota,
        "cover",
        "Sunday cover from the helping circle",
        "Ask the helping circle for two people to cover Sundays this month.",
        review_date=node.records.today() + timedelta(days=30),
    )
    say("  Dev, as rota holder, arranged Sunday cover (inside the rota holder's domain)")

    say("A meeting")
    meeting = node.meetings.schedule_meeting(facilitator, "Monthly circle meeting", node.clock())
    node.meetings.record_attendance(secretary, meeting, [ada, ben, cleo, dev])
    node.meetings.consent_agenda(
        facilitator, meeting, ["Rota for next month", "Travel budget check"]
    )
    node.meetings.record_item_decided(secretary, meeting, 1, "Rota agreed; Sundays covered")
    node.meetings.record_item_decided(secretary, meeting, 2, "Travel spend within budget")
    node.meetings.record_minutes(secretary, meeting, "Eli was absent with notice. All items done.")
    node.meetings.consent_minutes(facilitator, meeting)

    say("Five weeks later, a review comes due")
    advance_days(35)
    due = node.decisions.update_due_dates()
    for decision in node.decisions.reviews_due():
        say(f"  Review due: {decision.title!r} (review date {decision.review_date})")
    assert due["review_due"], "the everyday decision's review should have come due"

    say("Someone steps back, with thanks")
    node.people.step_back(
        secretary,
        dev,
        note="Thank you, Dev, for a year of rotas that never left anyone without care.",
    )
    say("  Dev stepped back; the rota holder hat was released")


def network_main(folder: Path, say: Callable[[str], None] = print, linger: bool = False) -> None:
    """Four nodes on loopback ports tell the network's story, then show what each sees."""
    from node.demo.local_cluster import local_cluster
    from node.demo.network_cast import Network, found_circles, network_views
    from node.demo.network_story import run_story

    with local_cluster(folder, "coop", "kitchen", "garden", "orchard") as nodes:
        network = Network(nodes, say)
        say(f"Four circle nodes in {folder}, each its own SQLite store:")
        found_circles(network)
        for key, process in nodes.items():
            process.start()
            say(f"  [{network.name(key)}] serving at {process.url} as {network.ref(key)}")
        run_story(network, lambda key: nodes[key].stop(), lambda key: nodes[key].start())
        say("\nEach node's view of the network:")
        for line in network_views(network):
            say(line)
        if linger:
            say("\nOpen the addresses above in a browser. Press Enter to stop the nodes.")
            input()
        say("\nStopping the nodes and removing their folders.")


def main(say: Callable[[str], None] = print) -> Path:
    """Run one circle's story in a fresh folder, print the logbook; returns the folder."""
    folder = Path(tempfile.mkdtemp(prefix="circle-node-demo-"))
    settings = Settings(data_dir=folder)
    clock = StoryClock()
    node = open_node(settings, clock)
    say(f"A circle node in {folder} (SQLite: {settings.sqlite_path.name})\n")
    run_story(node, say, clock.advance)
    node.close()

    # Reopen from the file: the logbook is read back from what was stored.
    node = open_node(settings, clock)
    say("\nThe circle's logbook, read back from the store:\n")
    for entry in read_logbook(node):
        say(f"  {entry.when:%Y-%m-%d}  {entry.text}")
    node.close()
    return folder
