"""Extensions, the sphere's spatial reference systems, schema raw and the three roles.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from alembic import op

from sinkload.db.migrate import migration_roles

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# The design's sphere (R = 6 371 000 m): geographic coordinates on it, and its Lambert cylindrical
# equal-area projection where cell areas and overlaps are measured (x = R*lon, y = R*sin(lat)).
SPHERE_SRIDS = {
    990000: ("SPHERE_6371000_LONLAT", "+proj=longlat +R=6371000 +no_defs +type=crs"),
    990001: ("SPHERE_6371000_CEA", "+proj=cea +lon_0=0 +lat_ts=0 +x_0=0 +y_0=0 +R=6371000 +units=m +no_defs +type=crs"),
}


def upgrade() -> None:
    roles = migration_roles()
    op.execute("create extension if not exists postgis")
    op.execute("create extension if not exists postgis_raster")
    for srid, (name, proj4) in SPHERE_SRIDS.items():
        op.execute(
            "insert into spatial_ref_sys (srid, auth_name, auth_srid, srtext, proj4text) "
            f"values ({srid}, 'sinkload', {srid}, '{name}', '{proj4}') on conflict (srid) do nothing"
        )
    op.execute(f"""
        do $$
        begin
          if not exists (select from pg_roles where rolname = '{roles.loader}') then
            create role {roles.loader} nologin;
          end if;
          if not exists (select from pg_roles where rolname = '{roles.transformer}') then
            create role {roles.transformer} nologin;
          end if;
          if not exists (select from pg_roles where rolname = '{roles.analyst}') then
            create role {roles.analyst} nologin;
          end if;
        end $$
    """)
    # The migrating user acts as each role (`set role`) for loads and dbt runs.
    op.execute(f"grant {roles.loader}, {roles.transformer}, {roles.analyst} to current_user")
    op.execute("create schema if not exists raw")
    op.execute("revoke all on schema raw from public")
    op.execute(f"grant usage on schema raw to {roles.loader}, {roles.transformer}")
    op.execute(f"alter default privileges in schema raw grant select, insert, update, delete on tables to {roles.loader}")
    op.execute(f"alter default privileges in schema raw grant usage, select on sequences to {roles.loader}")
    op.execute(f"alter default privileges in schema raw grant select on tables to {roles.transformer}")
    op.execute("do $$ begin execute format('revoke create, temporary on database %I from public', current_database()); end $$")
    op.execute(f"do $$ begin execute format('grant connect on database %I to {roles.loader}, {roles.transformer}, {roles.analyst}', current_database()); end $$")
    # dbt creates its schemas (staging, intermediate, marts) as the transformer.
    op.execute(f"do $$ begin execute format('grant create, temporary on database %I to {roles.transformer}', current_database()); end $$")


def downgrade() -> None:
    roles = migration_roles()
    op.execute("drop schema if exists raw cascade")
    for role in (roles.loader, roles.transformer, roles.analyst):  # the roles of this revision only
        op.execute(f"drop owned by {role} cascade")
    op.execute(f"""
        do $$
        declare r text;
        begin
          foreach r in array array['{roles.loader}', '{roles.transformer}', '{roles.analyst}'] loop
            begin
              execute format('drop role if exists %I', r);
            exception when dependent_objects_still_exist then
              raise notice 'role % still owns objects in another database; kept', r;
            end;
          end loop;
        end $$
    """)
    op.execute(f"delete from spatial_ref_sys where srid in ({', '.join(map(str, SPHERE_SRIDS))})")
