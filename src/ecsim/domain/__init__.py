"""Domain rules: state machines and validation for servers, volumes, groups, jobs (no HTTP, no SQL)."""
