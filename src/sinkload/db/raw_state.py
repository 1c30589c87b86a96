"""What schema raw holds, as the loaders and the reload ask it: which flux batches are current, which files
were loaded from where, the digest of each stored month, and a fingerprint of each source group (what the
reload compares to decide a rebuild)."""

from __future__ import annotations

import datetime

import psycopg
from psycopg import sql

# What each kind of raw change is made of: the tables it writes (dbt rebuilds what lies downstream of
# them) and a query that changes whenever they do (load ids only grow; layers record their file's sha256
# and load time).
SOURCE_GROUPS = {
    "flux": (("flux_tile", "flux_month_1deg", "load_batch", "product", "member", "grid"),
             "select count(*) || ':' || coalesce(max(batch_id), 0) from raw.load_batch"),
    "regions": (("region", "region_layer"),
                "select md5(coalesce(string_agg(scope || sha256 || loaded_at, ',' order by scope), '')) "
                "from raw.region_layer"),
    "landcover": (("landcover", "landcover_layer", "landcover_class"),
                  "select md5(coalesce(string_agg(sha256 || loaded_at, ','), '') || "
                  "(select count(*) from raw.landcover_class)) from raw.landcover_layer"),
}

# A batch (alias b) is current while it owns every month it loaded: a newer file may have replaced some of them,
# and then loading the older file again must restore them.
BATCH_IS_CURRENT = sql.SQL(
    "(select count(distinct t.month) from raw.flux_tile t where t.batch_id = b.batch_id) = b.n_months")


def already_loaded(conn: psycopg.Connection, product: str, member: str, sha256: str) -> bool:
    """The same file (sha256) for the same product and member is a current batch."""
    query = sql.SQL("""
        select exists (
            select from raw.load_batch b
            join raw.product p using (product_id) join raw.member m using (member_id)
            where p.name = %s and m.name = %s and b.sha256 = %s and {})
    """).format(BATCH_IS_CURRENT)
    return conn.execute(query, [product, member, sha256]).fetchone()[0]


def stored_month_digests(conn: psycopg.Connection, member_id: int,
                         months: list[datetime.date]) -> dict[datetime.date, str]:
    """month -> `month_digest` of what raw.flux_tile holds for a member's `months` (those it holds)."""
    rows = conn.execute("select distinct month, month_digest from raw.flux_tile where member_id = %s "
                        "and month = any(%s)", [member_id, months])
    return dict(rows.fetchall())


def loaded_hashes(conn: psycopg.Connection) -> set[tuple[str, str, str]]:
    """(product, member, sha256) of every current batch (one that still owns all its months)."""
    rows = conn.execute(sql.SQL("""
        select p.name, m.name, b.sha256
        from raw.load_batch b join raw.product p using (product_id) join raw.member m using (member_id)
        where {}
    """).format(BATCH_IS_CURRENT))
    return {(product, member, sha) for product, member, sha in rows}


def last_loaded_from(conn: psycopg.Connection) -> dict[tuple[str, str], tuple[str, str]]:
    """(product, absolute file path) -> (member, sha256) of the newest batch loaded from that path."""
    rows = conn.execute("""
        select distinct on (p.name, b.file_path) p.name, b.file_path, m.name, b.sha256
        from raw.load_batch b join raw.product p using (product_id) join raw.member m using (member_id)
        order by p.name, b.file_path, b.batch_id desc
    """)
    return {(product, path): (member, sha) for product, path, member, sha in rows}


def raw_fingerprint(conn: psycopg.Connection) -> dict[str, str]:
    """The state of each source group of raw (SOURCE_GROUPS), as short strings."""
    return {group: conn.execute(query).fetchone()[0] for group, (_, query) in SOURCE_GROUPS.items()}


def group_tables(groups: list[str]) -> list[str]:
    """The raw tables of the source groups `groups` (SOURCE_GROUPS), in their order."""
    return [table for group in groups for table in SOURCE_GROUPS[group][0]]


def changed_groups(now: dict[str, str], built: dict[str, str] | None) -> list[str]:
    """The source groups whose state differs from the one the last successful rebuild saw."""
    return [group for group in now if built is None or built.get(group) != now[group]]
