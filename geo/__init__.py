"""Flask-free geometry for 交界协同: CRS conversion, boundary files, adjacency, the point locator.

Nothing in this package imports Flask or the database layer.
"""
