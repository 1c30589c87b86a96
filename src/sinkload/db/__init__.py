"""Database I/O: the warehouse handle (`warehouse.py`), connections, the embedded cluster, migrations, what raw holds
(`raw_state.py`), the reload's run log and lock, raster tiles and polygon inserts."""
