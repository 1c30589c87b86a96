"""The run log is written by its own role: `<prefix>_reloader` (NOLOGIN) may insert and update
raw.reload_run and read raw; the loader keeps only SELECT on the log.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""

from alembic import op

from sinkload.db.migrate import migration_roles

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    roles = migration_roles()
    op.execute(f"""
        do $$
        begin
          if not exists (select from pg_roles where rolname = '{roles.reloader}') then
            create role {roles.reloader} nologin;
          end if;
        end $$
    """)
    # The migrating user acts as it (`set role`), as for the other roles; the loader is not a member.
    op.execute(f"grant {roles.reloader} to current_user")
    op.execute(f"revoke {roles.reloader} from {roles.loader}")
    op.execute(f"do $$ begin execute format('grant connect on database %I to {roles.reloader}', current_database()); end $$")
    op.execute(f"grant usage on schema raw to {roles.reloader}")
    op.execute(f"grant select on all tables in schema raw to {roles.reloader}")
    op.execute(f"alter default privileges in schema raw grant select on tables to {roles.reloader}")
    op.execute(f"grant insert, update on raw.reload_run to {roles.reloader}")
    op.execute(f"revoke insert, update, delete, truncate on raw.reload_run from {roles.loader}")
    op.execute(f"""
        do $$ begin
          execute format('grant usage on sequence %s to {roles.reloader}', pg_get_serial_sequence('raw.reload_run', 'run_id'));
        end $$
    """)


def downgrade() -> None:
    roles = migration_roles()
    op.execute(f"grant insert, update, delete on raw.reload_run to {roles.loader}")
    op.execute(f"alter default privileges in schema raw revoke select on tables from {roles.reloader}")
    op.execute(f"drop owned by {roles.reloader} cascade")
    op.execute(f"""
        do $$
        begin
          execute format('drop role if exists %I', '{roles.reloader}');
        exception when dependent_objects_still_exist then
          raise notice 'role {roles.reloader} still has privileges in another database; kept';
        end $$
    """)
