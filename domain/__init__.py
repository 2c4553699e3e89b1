"""The governance model of a sociocratic circle, as event-sourced aggregates.

Pure: no I/O, no HTTP, no crypto. Commands check the circle's rules first and raise a
`DomainError` a person can read; only then do they record an event, named in the past tense.
"""
