"""People, roles, passwords, API tokens, browser sessions and the audit of personal-data reads."""
