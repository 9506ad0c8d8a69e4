"""Citizens and property managers: feedback to reporters (outbox events, rating, dispute), the rewards
ledger, compounds (小区) with their property managers, renovation filings (装修申报) and inspections."""
