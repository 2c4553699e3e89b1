"""Old topics of stored classes that moved: stores written before name them by the old path.

The store names each event and snapshot by its class's topic (module path and class name). A
module whose stored classes moved there from another path says so with `moved_from`, so that
every topic of the old module resolves to the same class in the new one.
"""

from __future__ import annotations

import sys

from eventsourcing.utils import register_topic


def moved_from(old_module: str, module_name: str) -> None:
    """Resolve topics under `old_module` (e.g. `node.feeds:OwnFeed.Appended`) in the module
    now named `module_name` (pass `__name__`)."""
    register_topic(old_module, sys.modules[module_name])
