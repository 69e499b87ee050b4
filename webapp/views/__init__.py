"""One thin blueprint per area of the app."""
