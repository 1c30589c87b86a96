"""Database I/O: the embedded cluster, connections, migrations, raster COPY."""
