"""The aggregates whose event classes the dispatch tables (the logbook's, publishing's) name.

The domain's event classes are made by its `@event("...")` decorators when its modules load,
where type checkers cannot see them: the tables name them through these names, typed `Any`
(`event_classes.Circle.Founded` where the module also uses the real class, else imported by
name)."""

from __future__ import annotations

from typing import Any

from domain import (
    appeal,
    backstops,
    circle,
    consent,
    decision,
    meeting,
    member_aims,
    plan,
    proposal,
    relationships,
    selection,
    support,
)
from node.app import linked_view
from node.network import feeds, peers

Appeal: Any = appeal.Appeal
BackStops: Any = backstops.BackStops
Circle: Any = circle.Circle
ConsentProcess: Any = consent.ConsentProcess
Decision: Any = decision.Decision
HatSelection: Any = selection.HatSelection
Meeting: Any = meeting.Meeting
MemberAims: Any = member_aims.MemberAims
Plan: Any = plan.Plan
Proposal: Any = proposal.Proposal
Relationship: Any = relationships.Relationship
SupportRequest: Any = support.SupportRequest
OwnFeed: Any = feeds.OwnFeed
LinkedRecords: Any = linked_view.LinkedRecords
Peer: Any = peers.Peer
