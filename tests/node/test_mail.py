"""Mail, sent to a real SMTP server the test starts (aiosmtpd), and read from what it received.

Cast: the kitchen circle (tests/node/api/world.py): Ada (secretary), Ben (facilitator), Cleo
(full), Eli (learning), Gus (guest); Dora, who applies with her address and is admitted.
"""

from __future__ import annotations

import asyncio
import email
import re
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from email import policy
from email.message import EmailMessage, Message
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from starlette.requests import Request

from node.app.node import CircleNode
from node.app.persistence import open_node
from node.demo.scripted import consent_to
from node.http.log_paths import loggable_path
from node.network.mail_sender import MailSender, SmtpServer
from node.settings import Settings
from tests.conftest import Clock, NodeOpener
from tests.node.api.world import kitchen

URL = "http://testserver"


@dataclass
class Inbox:
    """What the SMTP server received."""

    messages: list[Message] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"

    def to(self, address: str) -> list[Message]:
        return [m for m in self.messages if m["To"] == address]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def api_node(tmp_path: Path, clock: Clock) -> Iterator[CircleNode]:
    node = open_node(Settings(data_dir=tmp_path / "kitchen"), clock)
    yield node
    node.close()


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def inbox(smtp_port: int) -> Iterator[Inbox]:
    received = Inbox()
    controller = Controller(received, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    yield received
    controller.stop()


def send(node: CircleNode, port: int) -> int:
    """One round of the node's mail sender, as the server runs it; returns mails sent."""
    node.mail_queue.public_url = URL
    node.mail_queue.from_address = "Kitchen <kitchen@example.org>"
    sender = MailSender(
        node.mail_queue, SmtpServer("127.0.0.1", port, tls="none", timeout=5), rand=lambda: 0.0
    )
    return asyncio.run(sender.send_round())


def text_of(message: Message) -> str:
    assert isinstance(message, EmailMessage)
    text: str = message.get_content()
    return text


def link_in(message: Message, path: str) -> str:
    found = re.search(rf"{URL}({path}/\S+)", text_of(message))
    assert found is not None, text_of(message)
    return found.group(1)


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found is not None, page
    return found.group(1)


def browser(node: CircleNode) -> TestClient:
    from node.http.server import ServerOptions, create_app

    return TestClient(create_app(node, None, ServerOptions(public_url=URL)), follow_redirects=False)


def admit_dora(circle: Any, address: str = "dora@example.org") -> str:
    node, ada = circle.node, circle.ids["ada"]
    dora = node.people.apply_to_join("Dora", "full", "", address)
    node.people.admit(ada, dora)
    return str(dora)


def test_an_admission_mail_arrives_once_with_a_one_time_sign_in_link(
    api_node: CircleNode, inbox: Inbox, smtp_port: int, clock: Clock
) -> None:
    # Given the kitchen circle, Dora applies with her address and the secretary admits her.
    circle = kitchen(api_node)
    dora = admit_dora(circle)

    # When the mail sender runs (twice), one mail arrives, to her.
    assert send(api_node, smtp_port) == 1
    assert send(api_node, smtp_port) == 0
    [mail] = inbox.messages
    assert mail["To"] == "dora@example.org"
    assert mail["Subject"] == "Welcome to Kitchen: sign in"
    assert "cn_" not in text_of(mail)  # never the bearer token itself
    link = link_in(mail, "/sign-in/link")

    # Then the link leads to a sign-in form, which signs her in.
    page = browser(api_node)
    form = page.get(link)
    assert form.status_code == 200 and "Sign in as Dora" in form.text
    signed = page.post(link, data={"csrf": csrf_of(form.text)})
    assert signed.status_code == 303 and signed.headers["location"] == "/account"
    account = page.get("/account")
    assert account.status_code == 200 and 'value="dora@example.org"' in account.text
    assert api_node.tokens.tokens_of(dora)  # her session's own token, never shown

    # The link works once: used again, it is refused.
    again = browser(api_node)
    assert again.get(link).status_code == 410
    csrf = csrf_of(again.get("/sign-in").text)
    refused = again.post(link, data={"csrf": csrf})
    assert refused.status_code == 410 and "used already, has expired" in refused.text
    assert again.get("/account").status_code == 303  # not signed in


def test_a_sign_in_link_expires_after_24_hours(
    api_node: CircleNode, inbox: Inbox, smtp_port: int, clock: Clock
) -> None:
    # Given Dora's admission mail, sent.
    circle = kitchen(api_node)
    admit_dora(circle)
    send(api_node, smtp_port)
    link = link_in(inbox.messages[0], "/sign-in/link")

    # When a day and a minute pass, the link is refused.
    clock.advance(hours=24, minutes=1)
    page = browser(api_node)
    assert page.get(link).status_code == 410
    refused = page.post(link, data={"csrf": csrf_of(page.get("/sign-in").text)})
    assert refused.status_code == 410
    assert page.get("/account").status_code == 303


def test_full_participants_are_told_when_a_consent_round_opens(
    api_node: CircleNode, inbox: Inbox, smtp_port: int
) -> None:
    # Given Cleo (full) and Gus (a guest) gave their addresses; Ben (full) chose no mail.
    circle = kitchen(api_node)
    node, ids = api_node, circle.ids
    node.mail.choose(ids["cleo"], ids["cleo"], "cleo@example.org", "each")
    node.mail.choose(ids["gus"], ids["gus"], "gus@example.org", "each")
    node.mail.choose(ids["ben"], ids["ben"], "ben@example.org", "none")
    proposal = node.proposals.draft_proposal(ids["cleo"], "Compost", "Weekly")
    node.proposals.present(ids["cleo"], proposal)
    node.proposals.open_reactions(ids["ben"], proposal)
    assert send(node, smtp_port) == 0

    # When the facilitator opens the consent round,
    node.consent.open_consent_round(ids["ben"], proposal)
    assert send(node, smtp_port) == 1

    # then Cleo is told her answer is needed, with a link to the proposal; nobody else is.
    [mail] = inbox.messages
    assert mail["To"] == "cleo@example.org"
    assert "your answer is needed" in mail["Subject"] and "Compost" in mail["Subject"]
    assert f"{URL}/proposals/{proposal}" in text_of(mail)
    # Each mail has a one-click unsubscribe (RFC 8058).
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert mail["List-Unsubscribe"].startswith(f"<{URL}/unsubscribe/{ids['cleo']}/")


def test_unsubscribing_works_without_signing_in(
    api_node: CircleNode, inbox: Inbox, smtp_port: int
) -> None:
    # Given Cleo's notice of a round, with its unsubscribe link.
    circle = kitchen(api_node)
    node, ids = api_node, circle.ids
    node.mail.choose(ids["cleo"], ids["cleo"], "cleo@example.org", "each")
    first = node.proposals.draft_proposal(ids["cleo"], "Compost", "Weekly")
    node.proposals.present(ids["cleo"], first)
    node.proposals.open_reactions(ids["ben"], first)
    node.consent.open_consent_round(ids["ben"], first)
    send(node, smtp_port)
    unsubscribe = inbox.messages[0]["List-Unsubscribe"].strip("<>").removeprefix(URL)

    # A forged link (another person's id, or a wrong signature) is refused.
    anyone = browser(node)
    forged = unsubscribe.replace(ids["cleo"], ids["ben"])
    assert anyone.post(forged, data={"List-Unsubscribe": "One-Click"}).status_code == 404
    assert anyone.get(unsubscribe[:-2] + "xx").status_code == 404

    # When her mail client posts the one-click unsubscribe, with no session,
    assert anyone.get(unsubscribe).status_code == 200
    done = anyone.post(unsubscribe, data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200 and "no more notices" in done.text

    # then she chose no mail, and the next round sends her none.
    assert node.mail.choice_of(ids["cleo"], ids["cleo"]).notices == "none"
    second = node.proposals.draft_proposal(ids["cleo"], "Bread", "Daily")
    node.proposals.present(ids["cleo"], second)
    node.proposals.open_reactions(ids["ben"], second)
    node.consent.open_consent_round(ids["ben"], second)
    assert send(node, smtp_port) == 0
    assert len(inbox.messages) == 1


def test_the_queue_survives_a_restart_and_sends_once(
    open_lasting_store: NodeOpener, smtp_port: int
) -> None:
    # Given Dora's admission mail queued while the SMTP server is down: the send fails.
    node = open_lasting_store()
    admit_dora(kitchen(node))
    assert send(node, smtp_port) == 0
    assert len(node.mail_queue.waiting()) == 1

    # When the node is closed and opened again, and the SMTP server starts,
    node.close()
    node = open_lasting_store()
    received = Inbox()
    controller = Controller(received, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        # then the mail arrives, once.
        assert send(node, smtp_port) == 1
        assert send(node, smtp_port) == 0
    finally:
        controller.stop()
    assert [m["To"] for m in received.messages] == ["dora@example.org"]
    assert node.mail_queue.waiting() == []


def test_two_senders_on_one_store_send_each_mail_once(
    open_lasting_store: NodeOpener, inbox: Inbox, smtp_port: int
) -> None:
    # Given two workers on one store, and three mails queued.
    first = open_lasting_store()
    circle = kitchen(first)
    for name in ("dora", "fay", "hal"):
        admit_dora(circle, f"{name}@example.org")
    second = open_lasting_store()

    # When both senders run at once,
    async def both() -> list[int]:
        senders = []
        for node in (first, second):
            node.mail_queue.public_url = URL
            node.mail_queue.from_address = "kitchen@example.org"
            server = SmtpServer("127.0.0.1", smtp_port, tls="none", timeout=5)
            senders.append(MailSender(node.mail_queue, server))
        return list(await asyncio.gather(*(s.send_round() for s in senders)))

    sent = asyncio.run(both())

    # then each mail arrived once.
    assert sum(sent) == 3
    assert sorted(m["To"] for m in inbox.messages) == [
        "dora@example.org",
        "fay@example.org",
        "hal@example.org",
    ]


def test_who_chose_a_digest_gets_what_waits_for_them_in_one_mail_a_day(
    api_node: CircleNode, inbox: Inbox, smtp_port: int, clock: Clock
) -> None:
    # Given Cleo chose a daily digest (it is 09:00 in the circle's time zone, UTC).
    circle = kitchen(api_node)
    node, ids = api_node, circle.ids
    node.mail.choose(ids["cleo"], ids["cleo"], "cleo@example.org", "digest")

    # When two consent rounds open during the day, she is not mailed as each opens,
    for title in ("Compost", "Bread"):
        proposal = node.proposals.draft_proposal(ids["ada"], title, "Weekly")
        node.proposals.present(ids["ada"], proposal)
        node.proposals.open_reactions(ids["ben"], proposal)
        node.consent.open_consent_round(ids["ben"], proposal)
    assert send(node, smtp_port) == 0

    # and the calendar queues her digest once a day, from 07:00 of the circle's time:
    node.reminders.remind()  # today's (09:00): both rounds wait for her
    assert send(node, smtp_port) == 1
    clock.advance(hours=21, minutes=59)  # 06:59 the next day: not yet
    assert node.reminders.remind() == 0
    clock.advance(minutes=2)
    assert node.reminders.remind() == 1
    assert node.reminders.remind() == 0

    # Then each digest lists what waits for her (node/app/waiting.py), in one mail.
    send(node, smtp_port)
    assert [m["Subject"] for m in inbox.messages] == [
        "Kitchen: 2 things wait for you today",
        "Kitchen: 2 things wait for you today",
    ]
    text = text_of(inbox.messages[0])
    assert "Compost" in text and "Bread" in text and f"{URL}/home" in text
    assert node.mail_queue.waiting() == []


def test_the_server_sends_from_a_background_task(
    api_node: CircleNode, inbox: Inbox, smtp_port: int
) -> None:
    from node.http.server import ServerOptions, create_app

    # Given the node served with an SMTP server set, its background tasks running.
    circle = kitchen(api_node)
    options = ServerOptions(
        public_url=URL,
        smtp=SmtpServer("127.0.0.1", smtp_port, tls="none", timeout=5),
        mail_from="kitchen@example.org",
    )
    with TestClient(create_app(api_node, None, options)) as client:
        # When the secretary admits Dora through the API, the request answers at once,
        apply = {"name": "Dora", "email": "dora@example.org"}
        dora = client.post("/api/people", headers=circle.as_("ada"), json=apply).json()
        admitted = client.post(
            f"/api/people/{dora['person_id']}/admit", headers=circle.as_("ada"), json={}
        )
        assert admitted.status_code == 200, admitted.text

        # and her mail arrives soon after, sent by the server's mail sender.
        for _ in range(100):
            if inbox.messages:
                break
            time.sleep(0.05)
    assert [m["To"] for m in inbox.messages] == ["dora@example.org"]
    assert inbox.messages[0]["From"] == "kitchen@example.org"


def test_without_smtp_settings_mail_stays_queued(
    api_node: CircleNode, caplog: pytest.LogCaptureFixture
) -> None:
    from node.http.server import ServerOptions, create_app

    # Given a node served without SMTP settings.
    circle = kitchen(api_node)
    app = create_app(api_node, None, ServerOptions(public_url=URL))
    with caplog.at_level("INFO", "circle_node.mail"), TestClient(app):
        # When Dora is admitted,
        admit_dora(circle)
    # then her mail stays queued, and the log said why, once.
    assert len(api_node.mail_queue.waiting()) == 1
    said = [r.message for r in caplog.records if "no SMTP server" in r.message]
    assert len(said) == 1


def test_smtp_settings_come_from_the_config_file_and_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from node.cli.serving import smtp_server
    from node.settings import SettingsError

    # Given the SMTP server in the config file, and its password in the environment.
    (tmp_path / "circle-node.toml").write_text(
        'smtp_host = "smtp.example.org"\nsmtp_port = 465\nsmtp_tls = "tls"\n'
        'smtp_user = "kitchen"\nsmtp_from = "Kitchen <kitchen@example.org>"\n'
    )
    monkeypatch.setenv("CIRCLE_NODE_SMTP_PASSWORD", "s3cret-pass")
    settings = Settings.load(tmp_path)

    # Then the sender gets them all; the password is never shown.
    server = smtp_server(settings)
    assert server == SmtpServer("smtp.example.org", 465, "kitchen", "s3cret-pass", "tls")
    assert "s3cret-pass" not in repr(settings) and "s3cret-pass" not in repr(server)

    # Without a from address nothing is sent; a TLS mode that is not one is refused.
    assert smtp_server(Settings(data_dir=tmp_path, smtp_host="smtp.example.org")) is None
    (tmp_path / "circle-node.toml").write_text('smtp_host = "h"\nsmtp_tls = "ssl"\n')
    with pytest.raises(SettingsError, match="smtp_tls"):
        Settings.load(tmp_path)


def test_a_login_without_tls_is_refused_but_to_this_host(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from node.settings import SettingsError

    # Given a server reached without TLS, with a user and a password,
    (tmp_path / "circle-node.toml").write_text(
        'smtp_host = "smtp.example.org"\nsmtp_tls = "none"\nsmtp_user = "kitchen"\n'
    )
    monkeypatch.setenv("CIRCLE_NODE_SMTP_PASSWORD", "s3cret-pass")

    # then the settings are refused, in one line that says why.
    with pytest.raises(SettingsError) as refused:
        Settings.load(tmp_path)
    assert 'smtp_tls = "none" would send the SMTP login in clear' in str(refused.value)
    assert "\n" not in str(refused.value) and "s3cret-pass" not in str(refused.value)

    # On this host, or without a login, it is taken.
    for host in ("127.0.0.1", "::1", "localhost"):
        (tmp_path / "circle-node.toml").write_text(
            f'smtp_host = "{host}"\nsmtp_tls = "none"\nsmtp_user = "kitchen"\n'
        )
        assert Settings.load(tmp_path).smtp_host == host
    monkeypatch.delenv("CIRCLE_NODE_SMTP_PASSWORD")
    (tmp_path / "circle-node.toml").write_text(
        'smtp_host = "smtp.example.org"\nsmtp_tls = "none"\n'
    )
    assert Settings.load(tmp_path).smtp_tls == "none"


def test_reminders_of_a_deadline_a_term_and_a_review_are_mailed_once(
    api_node: CircleNode, inbox: Inbox, smtp_port: int, clock: Clock
) -> None:
    # Given Cleo, Ben (facilitator) and Ada (secretary) gave their addresses; an asynchronous
    # proposal's consent round closes in two days; Ben's facilitator term comes to its review
    # in ten days; a policy comes due for review in ten days.
    circle = kitchen(api_node)
    node, ids = api_node, circle.ids
    for who in ("cleo", "ben", "ada"):
        node.mail.choose(ids[who], ids[who], f"{who}@example.org", "each")
    [term] = [t for t in node.records.peek_circle().terms if t.hat_id == "facilitator"]
    clock.now = clock.now.replace(
        year=term.review_date.year, month=term.review_date.month, day=term.review_date.day
    ) - timedelta(days=10)
    deadline = clock.now + timedelta(days=2)
    proposal = node.proposals.draft_proposal(
        ids["cleo"], "Compost", "Weekly", mode="async", deadline=deadline
    )
    node.proposals.present(ids["cleo"], proposal)
    node.proposals.open_reactions(ids["ben"], proposal)
    node.consent.open_consent_round(ids["ben"], proposal)
    node.consent.consent(ids["ada"], proposal)
    policy = consent_to(node, "adopt_policy", {}, title="Quiet hours")
    decision = next(d for d in node.records.list_decisions() if d.title == "Quiet hours")
    assert policy and decision.review_date > clock.now.date() + timedelta(days=7)
    send(node, smtp_port)
    inbox.messages.clear()

    # When the calendar looks now, nothing is due yet.
    assert node.reminders.remind() == 0

    # A day and a half later, the deadline is within a day: those who have not answered (Ben,
    # Cleo) are reminded; Ada answered. Two days later, Ben's and Ada's terms (facilitator and
    # secretary, selected together) come to their review within a week.
    clock.advance(hours=36)
    assert node.reminders.remind() == 2
    assert node.reminders.remind() == 0  # once
    clock.advance(days=2)
    assert node.reminders.remind() == 2
    send(node, smtp_port)
    closing = "Kitchen: the consent round on the proposal “Compost” closes within a day"
    due = f"comes to its review on {term.review_date}"
    assert sorted((m["To"], m["Subject"]) for m in inbox.messages) == [
        ("ada@example.org", f"Kitchen: your term as Secretary {due}"),
        ("ben@example.org", closing),
        ("ben@example.org", f"Kitchen: your term as Facilitator {due}"),
        ("cleo@example.org", closing),
    ]

    # When the policy comes within a week of its review, the facilitator and the secretary,
    # who put it on the agenda, are reminded, once.
    inbox.messages.clear()
    review = decision.review_date
    clock.now = clock.now.replace(year=review.year, month=review.month, day=review.day)
    clock.advance(days=-5)
    node.reminders.remind()
    assert node.reminders.remind() == 0
    send(node, smtp_port)
    reviews = [m for m in inbox.messages if "comes due for review" in m["Subject"]]
    assert sorted(m["To"] for m in reviews) == ["ada@example.org", "ben@example.org"]
    assert "“Quiet hours”" in reviews[0]["Subject"]


def test_mail_to_someone_erased_is_dropped_unsent(
    api_node: CircleNode, inbox: Inbox, smtp_port: int
) -> None:
    # Given Dora's admission mail queued; she leaves at once and her personal data is erased.
    circle = kitchen(api_node)
    dora = admit_dora(circle)
    api_node.people.leave(dora, dora)
    api_node.erasure.erase_person(circle.ids["ada"], dora)

    # When the sender runs, nothing is sent, and nothing waits any more.
    assert send(api_node, smtp_port) == 0
    assert inbox.messages == []
    assert api_node.mail_queue.waiting() == []


def test_a_title_with_line_breaks_neither_injects_a_header_nor_stops_the_mail(
    api_node: CircleNode, inbox: Inbox, smtp_port: int
) -> None:
    # Given Cleo gave her address, and a proposal whose title tries to add a header.
    circle = kitchen(api_node)
    node, ids = api_node, circle.ids
    node.mail.choose(ids["cleo"], ids["cleo"], "cleo@example.org", "each")
    proposal = node.proposals.draft_proposal(ids["cleo"], "Compost\r\nBcc: x@evil.org", "Weekly")
    node.proposals.present(ids["cleo"], proposal)
    node.proposals.open_reactions(ids["ben"], proposal)

    # When its round opens and Dora is admitted, both mails are sent,
    node.consent.open_consent_round(ids["ben"], proposal)
    admit_dora(circle)
    assert send(node, smtp_port) == 2

    # the title on one line of the subject, and no header added.
    notice = next(m for m in inbox.messages if m["To"] == "cleo@example.org")
    assert "Compost Bcc: x@evil.org" in notice["Subject"]
    assert notice["Bcc"] is None
    assert node.mail_queue.waiting() == []


def test_paths_that_carry_secrets_are_logged_without_them() -> None:
    def path_of(path: str) -> str:
        return loggable_path(Request({"type": "http", "path": path, "headers": []}))

    assert path_of("/sign-in/link/abc123") == "/sign-in/link/<secret>"
    assert path_of("/unsubscribe/p-1/sig") == "/unsubscribe/p-1/<secret>"
    assert path_of("/calendar/cal_xyz.ics") == "/calendar/<secret>"
    assert path_of("/proposals/p-1") == "/proposals/p-1"


def signed_in_by_link(node: CircleNode, inbox: Inbox, port: int) -> TestClient:
    """Dora's browser, signed in by the link in her admission mail."""
    send(node, port)
    link = link_in(inbox.messages[-1], "/sign-in/link")
    page = browser(node)
    form = page.get(link)
    assert page.post(link, data={"csrf": csrf_of(form.text)}).status_code == 303
    assert page.get("/account").status_code == 200
    return page


def test_signing_out_revokes_the_token_a_sign_in_link_minted(
    api_node: CircleNode, inbox: Inbox, smtp_port: int
) -> None:
    # Given Dora, signed in by her link: her session holds a token minted for it.
    circle = kitchen(api_node)
    dora = admit_dora(circle)
    page = signed_in_by_link(api_node, inbox, smtp_port)
    [minted] = api_node.tokens.tokens_of(dora)

    # When she signs out, then that token is revoked: nothing is left to revoke or to leak.
    csrf = csrf_of(page.get("/account").text)
    assert page.post("/sign-out", data={"csrf": csrf}).status_code == 303
    assert minted not in api_node.tokens.tokens_of(dora)


def test_revoking_someones_token_ends_the_sessions_their_sign_in_links_opened(
    api_node: CircleNode, inbox: Inbox, smtp_port: int
) -> None:
    # Given Dora, with a personal token from the secretary, signed in by her link, and with a
    # calendar link.
    circle = kitchen(api_node)
    ada, dora = circle.ids["ada"], admit_dora(circle)
    token_id, _ = api_node.tokens.issue_token(dora, ada)
    page = signed_in_by_link(api_node, inbox, smtp_port)
    api_node.calendars.make_link(dora)

    # When the secretary revokes Dora's token,
    api_node.tokens.revoke_token(token_id, ada)

    # then the session her link opened ends at once, no token of hers is left, and her
    # calendar link is revoked with her last token.
    assert page.get("/account").status_code == 303
    assert api_node.tokens.tokens_of(dora) == []
    assert api_node.calendars.link_made(dora) is None


def test_a_sign_in_link_is_refused_once_the_persons_tokens_are_revoked(
    api_node: CircleNode, inbox: Inbox, smtp_port: int
) -> None:
    # Given Dora's admission mail, not yet used, and her personal token.
    circle = kitchen(api_node)
    ada, dora = circle.ids["ada"], admit_dora(circle)
    token_id, _ = api_node.tokens.issue_token(dora, ada)
    send(api_node, smtp_port)
    link = link_in(inbox.messages[0], "/sign-in/link")

    # When the secretary revokes her token, then her link is refused.
    api_node.tokens.revoke_token(token_id, ada)
    page = browser(api_node)
    assert page.get(link).status_code == 410
    refused = page.post(link, data={"csrf": csrf_of(page.get("/sign-in").text)})
    assert refused.status_code == 410
    assert page.get("/account").status_code == 303


class Refusing:
    """An SMTP server that refuses every mail, naming the recipient, as many do."""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        return f"554 5.7.1 <{envelope.rcpt_tos[0]}>: mailbox unavailable"


def test_a_refused_mail_keeps_and_logs_no_address(
    api_node: CircleNode, smtp_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    # Given Dora's admission mail, and a server that refuses it naming her address.
    circle = kitchen(api_node)
    admit_dora(circle)
    controller = Controller(Refusing(), hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        # When the sender tries,
        with caplog.at_level("INFO", logger="circle_node.mail"):
            assert send(api_node, smtp_port) == 0
    finally:
        controller.stop()

    # then the letter keeps only the error's type and SMTP code, and so does the log.
    [letter] = api_node.mail_queue.waiting()
    assert letter.last_error == "SMTPDataError (SMTP 554)"
    assert "SMTP 554" in caplog.text
    assert "dora@example.org" not in letter.last_error + caplog.text
