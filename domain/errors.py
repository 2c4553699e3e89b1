"""Domain errors: a rule of the circle was broken. Messages are written for people."""


class DomainError(Exception):
    """A command broke one of the circle's rules and changed nothing."""


class NotPermitted(DomainError):
    """This person may not do this (level, membership or hat)."""


class WrongStage(DomainError):
    """The thing is not at a point of its process where this can happen."""


class InvalidRequest(DomainError):
    """The request itself is incomplete or contradictory."""


class NotFound(DomainError):
    """No such circle, person, proposal, decision, hat or meeting."""
