"""Support between circles: requests for support (to chosen circles or the network), offers,
acceptance, delivery and reflections. Asking, offering and accepting are consent decisions
(carried out here once consented); delivery and reflections are recorded by a member."""

from __future__ import annotations

from typing import Any

from domain.circle import Circle
from domain.proposal import Proposal
from domain.support import SupportRequest
from domain.values import Purpose
from node.app.records import CircleRecords
from node.app.work import UnitOfWork
from node.store.retry import retry_on_conflict


class Support:
    """The circle's requests for support, and the support it gives."""

    def __init__(self, records: CircleRecords) -> None:
        self._records = records

    def support_requests(self) -> list[SupportRequest]:
        return list(self._records.all("support", SupportRequest))

    def get_support_request(self, request_id: str) -> SupportRequest:
        return self._records.get_record(SupportRequest, request_id, "request for support")

    def carry_out(self, circle: Circle, proposal: Proposal) -> list[Any]:
        """What a consented request for support, offer or acceptance changes."""
        if proposal.purpose == Purpose.REQUEST_SUPPORT:
            request = SupportRequest.ask(circle, proposal)
            return [request, *self._records.filed("support", request.id)]
        request = self.get_support_request(str(proposal.subject["request"]))
        if proposal.purpose == Purpose.OFFER_SUPPORT:
            request.make_offer(circle, proposal)
        else:
            request.accept_offer(circle, proposal)
        return [request]

    @retry_on_conflict
    def record_support_delivery(self, by: str, request_id: str, note: str) -> None:
        circle = self._records.get_circle()
        with UnitOfWork(self._records) as uow:
            request = uow.record(SupportRequest, request_id, "request for support")
            request.record_delivery(circle, by, note)

    @retry_on_conflict
    def reflect_on_support(self, by: str, request_id: str, text: str) -> None:
        circle = self._records.get_circle()
        with UnitOfWork(self._records) as uow:
            request = uow.record(SupportRequest, request_id, "request for support")
            request.reflect(circle, by, text)
