"""The node's side of federation: its own feed, peers, intake, outbox and delivery, messages."""
