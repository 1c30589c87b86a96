"""Region layers (national, division) and land cover: read, repair, reproject, store in raw."""
