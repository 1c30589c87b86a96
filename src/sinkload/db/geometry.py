"""The one statement that writes polygons into raw: WKB in, a valid MultiPolygon in SRID 4326 stored."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import psycopg
from psycopg import sql

# Whatever the reader produced (a polygon, a multipolygon, an invalid ring): made valid, its polygons kept.
MULTIPOLYGON_FROM_WKB = sql.SQL("st_multi(st_collectionextract(st_makevalid(st_geomfromwkb({}, 4326)), 3))")


def insert_polygons(conn: psycopg.Connection, table: str, columns: Sequence[str],
                    rows: Iterable[tuple]) -> None:
    """Insert rows into `raw.<table>`: each row holds the `columns`' values, then the geometry as WKB bytes
    (stored in column `geom`)."""
    statement = sql.SQL("insert into raw.{} ({}, geom) values ({}, {})").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns)),
        sql.SQL(", ").join(sql.Placeholder() * len(columns)), MULTIPOLYGON_FROM_WKB.format(sql.Placeholder()))
    with conn.cursor() as cur:
        cur.executemany(statement, list(rows))
