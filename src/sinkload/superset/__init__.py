"""Apache Superset assets for the marts: the bundle generated from the dbt yml, and its REST import."""
