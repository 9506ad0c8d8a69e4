"""The case map's case layer: clusters counted in the database at low zoom, single cases at high zoom."""
