"""Superset settings for the sinkload compose file: everything secret comes from the environment."""

import os

SECRET_KEY = os.environ["SUPERSET_SECRET_KEY"]
# Superset's own metadata (dashboards, users) lives in a SQLite file in its volume, not in the warehouse.
SQLALCHEMY_DATABASE_URI = "sqlite:////app/home/superset.db"
# SQL Lab may only read: the warehouse connection is the analyst login anyway (docs/operations.md).
PREVENT_UNSAFE_DB_CONNECTIONS = True
