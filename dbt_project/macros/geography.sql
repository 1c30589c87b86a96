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
