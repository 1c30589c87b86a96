"""Region layers (national, division, province, any named layer) and land cover: read, check, repair, reproject,
store in raw."""
