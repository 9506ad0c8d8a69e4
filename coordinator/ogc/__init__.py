"""OGC API – Features at /ogc/ for GIS tools (QGIS, GDAL, OWSLib)."""
