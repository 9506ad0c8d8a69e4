"""Squads (城管中队), their jurisdictions and the dispatch units above them."""
