"""Moving live traffic between the two sides through HAProxy (`ship traffic ...`).

The pure parts (`model`, `hashing`, `maps`, `render`, `plan`) decide; `runtime` talks to
HAProxy's runtime API; `change` carries one change out under the lock, into the ledger.
"""
