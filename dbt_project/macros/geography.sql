{#- The design's sphere (R = 6 371 000 m) and its cylindrical equal-area projection (SRID 990001):
    x = R * lon, y = R * sin(lat). A lon/lat rectangle is an exact rectangle there. -#}

{% macro cea_x(lon) -%}
    ({{ var('earth_radius_m') }} * radians({{ lon }}))
{%- endmacro %}

{% macro cea_y(lat) -%}
    ({{ var('earth_radius_m') }} * sin(radians({{ lat }})))
{%- endmacro %}

{#- Spherical area (m^2) of the lon/lat rectangle west..east x south..north (degrees). -#}
{% macro cell_area_m2(west, east, south, north) -%}
    ({{ cea_x(east) }} - {{ cea_x(west) }}) * ({{ cea_y(north) }} - {{ cea_y(south) }})
{%- endmacro %}

{#- The rectangle as a polygon in SRID 990001. -#}
{% macro cea_envelope(west, east, south, north) -%}
    st_makeenvelope({{ cea_x(west) }}, {{ cea_y(south) }}, {{ cea_x(east) }}, {{ cea_y(north) }}, 990001)
{%- endmacro %}

{#- A 4326 geometry on the sphere's equal-area projection, lon/lat edges densified to 0.05° first. -#}
{% macro to_cea(geom) -%}
    st_transform(st_setsrid(st_segmentize({{ geom }}, 0.05), 990000), 990001)
{%- endmacro %}

{#- The exact overlap of each 1° cell with the polygons over it, measured on the equal-area projection (a cell
    covered by one piece counts whole, a border cell by the area of its intersection): one row per cell and
    value of `keys` (the pieces' columns that name what they belong to), with `area_m2` (m^2 of the sphere,
    summed over the pieces) and `fraction` (area_m2 / the cell's area). `cells` has cell_id, area_m2,
    geom_cea; `pieces` has the keys and geom_cea (subdivided, so that each overlap test is cheap). -#}
{% macro cell_overlap_fractions(cells, pieces, keys) -%}
    with cells as (
        select cell_id, area_m2, geom_cea from {{ cells }}
    ),

    pieces as (
        select {{ keys | join(', ') }}, geom_cea from {{ pieces }}
    ),

    cell_overlaps as (
        select
            cells.cell_id,
            {%- for key in keys %}
            pieces.{{ key }},
            {%- endfor %}
            case
                when st_covers(pieces.geom_cea, cells.geom_cea) then st_area(cells.geom_cea)
                else st_area(st_intersection(pieces.geom_cea, cells.geom_cea))
            end as overlap_m2
        from cells
        inner join pieces on pieces.geom_cea && cells.geom_cea
    )

    select
        cell_overlaps.cell_id,
        {%- for key in keys %}
        cell_overlaps.{{ key }},
        {%- endfor %}
        sum(cell_overlaps.overlap_m2) as area_m2,
        sum(cell_overlaps.overlap_m2) / cells.area_m2 as fraction
    from cell_overlaps
    inner join cells on cell_overlaps.cell_id = cells.cell_id
    group by cell_overlaps.cell_id, {% for key in keys %}cell_overlaps.{{ key }}, {% endfor %}cells.area_m2
    having sum(cell_overlaps.overlap_m2) > 0
{%- endmacro %}

{#- The part of `piece` (a geom_cea expression) that the pieces `p` of `pieces` meeting `condition` do not
    cover, polygons only: empty with no overlay when one of them covers it whole (most subdivided pieces are
    rectangles inside their polygon), else the piece minus the union of those meeting its box (the whole piece
    when none does). -#}
{% macro part_not_covered(piece, pieces, condition) -%}
    case
        when exists (
            select 1 from {{ pieces }} as p
            where {{ condition }} and p.geom_cea && {{ piece }} and st_covers(p.geom_cea, {{ piece }})
        ) then st_geomfromtext('POLYGON EMPTY', 990001)
        else st_collectionextract(coalesce(
            (select st_difference({{ piece }}, st_union(p.geom_cea))
             from {{ pieces }} as p where {{ condition }} and p.geom_cea && {{ piece }}),
            {{ piece }}), 3)
    end
{%- endmacro %}

{#- The area (m^2) of part_not_covered. -#}
{% macro area_not_covered(piece, pieces, condition) -%}
    st_area({{ part_not_covered(piece, pieces, condition) }})
{%- endmacro %}
