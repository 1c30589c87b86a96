"""The reload log: one row per `sinkload reload` run (what it found, loaded and rebuilt).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # `built_fingerprint` is the state of raw.load_batch that the last successful dbt step saw: a reload
    # whose ingest committed but whose dbt step was killed leaves it behind, so the next one rebuilds.
    # `view_checksums` maps dbt view nodes to their SQL checksum when last built, so unchanged views are
    # not replaced (dbt's drop/rename of a view would disturb readers).
    op.execute("""
        create table raw.reload_run (
            run_id             bigint generated always as identity primary key,
            started_at         timestamptz not null default clock_timestamp(),
            finished_at        timestamptz,
            status             text not null default 'running'
                               check (status in ('running', 'done', 'failed', 'interrupted')),
            inbox              text not null,
            host               text,
            pid                integer,
            files_seen         integer not null default 0,
            files_loaded       integer not null default 0,
            files_failed       integer not null default 0,
            products           text[] not null default '{}',
            dbt_selection      text,
            built_fingerprint  text,
            view_checksums     jsonb,
            message            text
        )
    """)
    op.execute("create index reload_run_status_idx on raw.reload_run (status, run_id)")


def downgrade() -> None:
    op.execute("drop table if exists raw.reload_run")
