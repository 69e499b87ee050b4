"""CLI for integrations: connect an ATS or a calendar, run a sync (built in Step 3)."""
