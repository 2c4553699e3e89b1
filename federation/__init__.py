"""The federation protocol: node identity, signed hash-chained feeds, push and pull.

Knows nothing of the governance domain. (Under construction: see the README's status.)
"""
