"""Change tracking of schema raw, for `sinkload build`'s "nothing changed" check (src/sinkload/build_state.py).

Every table of raw gets a statement-level trigger (insert, update, delete, truncate) that records the writing
transaction in `raw.raw_change` (one row per transaction and table written): the count and the newest id of
a table's rows change whenever its data does, whoever writes it (the loaders, a reload, a hand fix in psql as the owner). A row is
written inside the writing transaction, so it becomes visible exactly when the data does (a sequence would be
bumped, and seen, before the data commits, and a build starting in between would record the change as built).
An event trigger gives tables that later migrations create in raw the same trigger, and counts any DDL in
raw as a change; creating it needs a superuser, so without one it is left out and `sinkload build` never
skips while a raw table lacks the trigger. `raw.build_state` holds what each complete build was built from;
the transformer (who runs dbt) writes it.

The bookkeeping tables (raw_change, build_state and the reload log reload_run) have no trigger: writing them
is not a change of what dbt reads.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27
"""

from alembic import op

from sinkload.db.migrate import migration_roles

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

TRIGGER = "raw_change"
BOOKKEEPING = ("raw_change", "build_state", "reload_run")
EVENT_TRIGGER = "sinkload_raw_change_tracking"


def upgrade() -> None:
    roles = migration_roles()
    op.execute("""
        create table raw.raw_change (
            xact_id     bigint not null,
            table_name  text not null,
            changed_at  timestamptz not null default clock_timestamp(),
            primary key (xact_id, table_name)
        )
    """)
    op.execute("""
        create table raw.build_state (
            state_id     bigint generated always as identity primary key,
            build_id     bigint,
            fingerprint  text not null,
            parts        jsonb not null,
            built_at     timestamptz not null default clock_timestamp()
        )
    """)
    # Security definer: whoever writes raw records the change without any right on raw_change itself.
    op.execute("""
        create function raw.note_change() returns trigger
        language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
        begin
            insert into raw.raw_change (xact_id, table_name) values (pg_current_xact_id()::text::bigint, tg_table_name)
            on conflict do nothing;
            return null;
        end
        $$
    """)
    op.execute("revoke all on function raw.note_change() from public")
    op.execute(f"""
        do $$
        declare t regclass;
        begin
            for t in select c.oid::regclass from pg_class c join pg_namespace n on n.oid = c.relnamespace
                     where n.nspname = 'raw' and c.relkind in ('r', 'p')
                       and c.relname <> all (array{list(BOOKKEEPING)!r}) loop
                execute format('create trigger {TRIGGER} after insert or update or delete or truncate on %s '
                               'for each statement execute function raw.note_change()', t);
            end loop;
        end $$
    """)
    # Security definer as well (its owner is the superuser who can create it): DDL in raw by any role counts.
    op.execute(f"""
        create function raw.track_raw_tables() returns event_trigger
        language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
        declare command record;
        begin
            for command in select * from pg_event_trigger_ddl_commands() where schema_name = 'raw' loop
                if command.object_type = 'table' and command.command_tag in ('CREATE TABLE', 'CREATE TABLE AS', 'SELECT INTO')
                   and not exists (select from pg_trigger where tgrelid = command.objid and tgname = '{TRIGGER}') then
                    execute format('create trigger {TRIGGER} after insert or update or delete or truncate on %s '
                                   'for each statement execute function raw.note_change()', command.objid::regclass);
                end if;
                insert into raw.raw_change (xact_id, table_name)
                values (pg_current_xact_id()::text::bigint,
                        coalesce((select relname from pg_class where oid = command.objid
                                  and command.object_type = 'table'), '(ddl)'))
                on conflict do nothing;
            end loop;
        end
        $$
    """)
    op.execute("revoke all on function raw.track_raw_tables() from public")
    op.execute(f"""
        do $$
        begin
            if (select rolsuper from pg_roles where rolname = current_user) then
                create event trigger {EVENT_TRIGGER} on ddl_command_end execute function raw.track_raw_tables();
            else
                raise notice 'not a superuser: no event trigger; a raw table created later needs its {TRIGGER} trigger';
            end if;
        end $$
    """)
    # Read by the transformer (build) and the reloader (default privileges of 0001/0005); written only through
    # note_change() (raw_change) and by the transformer (build_state): the loader may not forge either.
    for table in ("raw_change", "build_state"):
        op.execute(f"revoke insert, update, delete, truncate on raw.{table} from {roles.loader}")
    op.execute(f"grant insert on raw.build_state to {roles.transformer}")
    # The schema revision is part of what a build was built from.
    op.execute(f"grant select on public.alembic_version to {roles.transformer}")
    op.execute(f"""
        do $$ begin
          execute format('grant usage on sequence %s to {roles.transformer}',
                         pg_get_serial_sequence('raw.build_state', 'state_id'));
        end $$
    """)


def downgrade() -> None:
    op.execute(f"revoke select on public.alembic_version from {migration_roles().transformer}")
    op.execute(f"drop event trigger if exists {EVENT_TRIGGER}")
    op.execute(f"""
        do $$
        declare t regclass;
        begin
            for t in select tgrelid::regclass from pg_trigger where tgname = '{TRIGGER}'
                     and tgrelid in (select c.oid from pg_class c join pg_namespace n on n.oid = c.relnamespace
                                     where n.nspname = 'raw') loop
                execute format('drop trigger {TRIGGER} on %s', t);
            end loop;
        end $$
    """)
    op.execute("drop function if exists raw.track_raw_tables()")
    op.execute("drop function if exists raw.note_change()")
    op.execute("drop table if exists raw.build_state")
    op.execute("drop table if exists raw.raw_change")
