"""Personal tokens with which members sign in: issued by the secretary (or the operator's CLI),
shown once, revoked by their holder or the secretary. Revoking someone's last token revokes
their calendar link with it (node/app/calendars.py): access to the circle's records ends
together."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from eventsourcing.application import AggregateNotFoundError

from domain.errors import NotFound, NotPermitted
from domain.membership import check_records_keeper, check_self_or_records_keeper
from domain.values import GONE
from node.app.calendars import calendar_secrets
from node.app.credentials import CREDENTIALS_ID, Credentials
from node.app.mail_links import MAIL_LINKS_ID, MailLinks
from node.app.work import UnitOfWork, Work
from node.store.retry import retry_on_conflict as command


@dataclass(frozen=True)
class HeldToken:
    """A token someone holds, as its list shows it: its id and when it was issued (never the
    token itself); `for_session`: minted for a session a sign-in link opened."""

    token_id: str
    issued: datetime
    for_session: bool


class Tokens:
    """Issuing, revoking and checking personal tokens."""

    def __init__(self, work: Work) -> None:
        self._work = work

    def _credentials(self) -> Credentials:
        try:
            credentials: Credentials = self._work.load(Credentials, CREDENTIALS_ID)
        except AggregateNotFoundError:
            return Credentials()
        return credentials

    @command
    def issue_token(self, person_id: str, by: str | None = None) -> tuple[str, str]:
        """A personal token for someone of the circle; returns (token id, token), the token
        shown this once. `by` is the secretary (or, for the operator's CLI, None)."""
        circle = self._work.get_circle()
        if by is not None:
            check_records_keeper(circle, by, "issue a sign-in token")
        if circle.participant(person_id).status in GONE:
            raise NotPermitted("Someone who has left the circle gets no sign-in token")
        with UnitOfWork(self._work) as uow:
            credentials = self._credentials()
            uow.add(credentials)
            return credentials.issue(person_id, uow.now)

    @command
    def revoke_token(self, token_id: str, by: str | None = None) -> None:
        """Revoke a token: by its holder, or the secretary (or the operator: by None)."""
        credentials = self._credentials()
        record = credentials.tokens.get(token_id)
        if record is None:
            raise NotFound(f"No token {token_id}")
        if by is not None and by != record["person"]:
            check_records_keeper(self._work.get_circle(), by, "revoke someone else's token")
        person = str(record["person"])
        # Revoking someone's token ends the sessions their sign-in links opened, and refuses
        # their links not yet used: none outlives the revocation.
        named = [token_id, *credentials.session_tokens_of(person)]
        ending = [t for t in dict.fromkeys(named) if not credentials.tokens[t]["revoked"]]
        links = self._mail_links()
        with UnitOfWork(self._work) as uow:
            uow.add(credentials)
            for ended in ending:
                credentials.revoke(ended)
            if links is not None:
                uow.add(links)
                links.withdraw(person)
            if ending and not credentials.held_by(person):
                secrets = calendar_secrets(self._work)
                if secrets.made_for(person) is not None:
                    uow.add(secrets)
                    secrets.revoke(person)

    @command
    def end_link_session(self, token_id: str, person_id: str) -> None:
        """Revoke the token minted for a session a sign-in link opened, as it signs out (a
        personal token, handed over by the secretary, outlives the sessions it opens)."""
        credentials = self._credentials()
        record = credentials.tokens.get(token_id)
        if record is None or record["revoked"] or record["person"] != person_id:
            return
        if credentials.is_for_session(token_id):
            with UnitOfWork(self._work) as uow:
                uow.add(credentials)
                credentials.revoke(token_id)

    def _mail_links(self) -> MailLinks | None:
        try:
            links: MailLinks = self._work.load(MailLinks, MAIL_LINKS_ID)
        except AggregateNotFoundError:
            return None
        return links

    def person_for_token(self, token: str) -> str | None:
        """Who signs in with this token: someone of the circle who has not left; else None."""
        # Checked on every request of the member API: the credentials and the circle are
        # brought up to date in one read of the store.
        if not self._work.is_founded:
            return None
        circle_id = self._work.circle_id
        kept = {each.id: each for each in self._work.kept.peek_all([CREDENTIALS_ID, circle_id])}
        credentials: Credentials | None = kept.get(CREDENTIALS_ID)
        if credentials is None:
            return None
        person = credentials.person_for(token)
        if person is None:
            return None
        circle = kept.get(circle_id)
        if circle is None:
            circle = self._work.peek_circle()  # gone after all: refused as that refuses it
        participant = circle.participants.get(person)
        if participant is None or participant.status in GONE:
            return None
        return person

    def tokens_of(self, person_id: str) -> list[str]:
        return self._credentials().held_by(person_id)

    def held(self, by: str, person_id: str) -> list[HeldToken]:
        """The tokens someone holds, not revoked, oldest first: listed for their holder, or
        for the secretary (those who may revoke them)."""
        check_self_or_records_keeper(
            self._work.peek_circle(), by, person_id, "list someone else's tokens"
        )
        credentials = self._credentials()
        held = [
            HeldToken(
                token_id,
                datetime.fromisoformat(str(credentials.tokens[token_id]["issued"])),
                credentials.is_for_session(token_id),
            )
            for token_id in credentials.held_by(person_id)
        ]
        return sorted(held, key=lambda token: token.issued)
