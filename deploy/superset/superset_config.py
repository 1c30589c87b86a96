"""Superset settings for sinkload, with or without Docker: everything comes from the environment.

SUPERSET_SECRET_KEY    signs sessions and encrypts stored database passwords (required; keep it stable)
SUPERSET_METADATA_URI  Superset's own metadata database (dashboards, users), a SQLAlchemy URI;
                       default: a SQLite file superset.db in SUPERSET_HOME (or ~/.superset)
"""

import os
from pathlib import Path

SECRET_KEY = os.environ["SUPERSET_SECRET_KEY"]

_home = Path(os.environ.get("SUPERSET_HOME") or Path.home() / ".superset")
SQLALCHEMY_DATABASE_URI = os.environ.get("SUPERSET_METADATA_URI") or f"sqlite:///{_home / 'superset.db'}"

# Refuses SQLite files as *data* sources (they would let a user read Superset's own metadata). It is not a
# read-only guard: the warehouse is read-only because the connection logs in as an analyst role (SELECT on
# schema marts only, default_transaction_read_only) and the database has "allow DML" off.
PREVENT_UNSAFE_DB_CONNECTIONS = True
