"""The liaison committee's review of the shared caseload: grouped figures in SQL, exports, the report page."""
