"""The vocabulary of the governance model: the states and kinds things can have.

They are `StrEnum`s, so they compare equal to their plain string values (which is how they
are stored in events).
"""

from enum import StrEnum


class CircleStatus(StrEnum):
    FORMING = "forming"
    ACTIVE = "active"
    INCORPORATED = "incorporated"
    INDEPENDENT = "independent"
    DISSOLVED = "dissolved"


class CircleKind(StrEnum):
    GENERAL = "general"
    PURPOSE = "purpose"
    TEAM = "team"
    LOCAL = "local"
    HELPING = "helping"


class Level(StrEnum):
    """How someone takes part: only full participants consent or object."""

    FULL = "full"
    LEARNING = "learning"
    GUEST = "guest"


class Membership(StrEnum):
    APPLIED = "applied"
    TRIAL = "trial"
    ACTIVE = "active"
    STEPPED_BACK = "stepped_back"
    RETURNED = "returned"
    LEFT = "left"
    REMOVED = "removed"
    DECLINED = "declined"


ACTING = frozenset({Membership.ACTIVE, Membership.RETURNED})
GONE = frozenset({Membership.LEFT, Membership.REMOVED, Membership.DECLINED})


class HatKind(StrEnum):
    PROCESS = "process"
    OPERATIONAL = "operational"
    TEAM = "team"


class DecisionMethod(StrEnum):
    CONSENT = "consent"
    FORMAL_VOTE = "formal_vote"


class AbsenteePolicy(StrEnum):
    """What happens to full participants who did not answer a consent round."""

    CONSENT_LATER = "consent_later"
    CANNOT_OBJECT = "cannot_object"
    REACTED_IN_ADVANCE = "reacted_in_advance"


class Mode(StrEnum):
    MEETING = "meeting"
    ASYNC = "async"


class Stage(StrEnum):
    """Stages of the consent process, shared by proposals and hat selections."""

    DRAFT = "draft"
    PRESENTED = "presented"
    CLARIFYING = "clarifying"
    REACTIONS = "reactions"
    NOMINATING = "nominating"
    CHANGE_ROUND = "change_round"
    CONSENT_ROUND = "consent_round"
    INTEGRATING = "integrating"
    CONSENTED = "consented"
    NOT_CARRIED = "not_carried"
    WITHDRAWN = "withdrawn"
    ESCALATED = "escalated"
    LAPSED = "lapsed"


FINAL_STAGES = frozenset(
    {Stage.CONSENTED, Stage.NOT_CARRIED, Stage.WITHDRAWN, Stage.ESCALATED, Stage.LAPSED}
)


class Integration(StrEnum):
    """Ways to integrate an objection before the consent round repeats."""

    AMEND = "amend"
    SHORTEN_TERM = "shorten_term"
    ADD_MEASURE = "add_measure"


class Purpose(StrEnum):
    """What a proposal does to the circle when it is consented."""

    ADOPT_POLICY = "adopt_policy"
    AMEND_DECISION = "amend_decision"
    RENEW_DECISION = "renew_decision"
    REVOKE_DECISION = "revoke_decision"
    CHANGE_AIM = "change_aim"
    CHANGE_DOMAIN = "change_domain"
    CHANGE_RULES = "change_rules"
    REMOVE_PARTICIPANT = "remove_participant"
    INCORPORATE = "incorporate"
    GO_INDEPENDENT = "go_independent"
    DISSOLVE = "dissolve"
    # Relationships with other circles (each names the other circle as `circle`).
    REQUEST_PEERING = "request_peering"
    ACCEPT_PEERING = "accept_peering"
    END_PEERING = "end_peering"
    ADMIT_TO_NETWORK = "admit_to_network"
    APPLY_TO_COOP = "apply_to_coop"
    ADMIT_MEMBER = "admit_member"
    PROPOSE_LEADER = "propose_leader"
    AGREE_LEADER = "agree_leader"
    ANSWER_CONSENT_REQUEST = "answer_consent_request"
    REQUEST_SUPPORT = "request_support"
    OFFER_SUPPORT = "offer_support"
    ACCEPT_OFFER = "accept_offer"
    # The circle's budget and plans (domain/plan.py).
    ADOPT_PLAN = "adopt_plan"
    REVISE_PLAN = "revise_plan"


class Peering(StrEnum):
    """Peering between two circles, as one of them sees it."""

    NONE = "none"
    REQUESTED = "requested"  # we asked them
    ASKED = "asked"  # they asked us
    PEERS = "peers"
    ENDED = "ended"


class CoopLink(StrEnum):
    """Whether one circle is part of the other (a member circle or a corporate member)."""

    NONE = "none"
    APPLYING = "applying"  # we applied to be part of them
    APPLIED = "applied"  # they applied to be part of us
    MEMBER_OF = "member_of"  # we are part of them
    HAS_MEMBER = "has_member"  # they are part of us
    WITHDRAWN = "withdrawn"


class SupportKind(StrEnum):
    RESOURCES = "resources"
    EXPERIENCE = "experience"
    LISTENING = "listening"
    PEOPLE = "people"
    HELPING_CIRCLE = "helping_circle"


class SupportStatus(StrEnum):
    OPEN = "open"
    ACCEPTED = "accepted"  # an offer was accepted (ours, or the one made to us)
    DELIVERED = "delivered"
    CLOSED = "closed"  # another offer was taken, or the request was withdrawn


class DecisionKind(StrEnum):
    POLICY = "policy"
    OPERATIONAL = "operational"


class DecisionStatus(StrEnum):
    IN_FORCE = "in_force"
    REVIEW_DUE = "review_due"
    RENEWED = "renewed"
    AMENDED = "amended"
    EXPIRED = "expired"
    SUPERSEDED = "superseded"
    REVOKED = "revoked"


IN_FORCE = frozenset(
    {
        DecisionStatus.IN_FORCE,
        DecisionStatus.REVIEW_DUE,
        DecisionStatus.RENEWED,
        DecisionStatus.AMENDED,
    }
)


class MeetingStage(StrEnum):
    PLANNED = "planned"
    OPEN = "open"
    AGENDA_CONSENTED = "agenda_consented"
    MINUTES_RECORDED = "minutes_recorded"
    CLOSED = "closed"


class Notices(StrEnum):
    """How someone who gave an email address hears that something needs them."""

    EACH = "each"  # each notice as it comes
    DIGEST = "digest"  # one mail a day with what came
    NONE = "none"
