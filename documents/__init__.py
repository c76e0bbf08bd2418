"""Documents the platform writes (spreadsheets). A bottom-layer package: no models, and no import
of schools, submissions or compliance, which all use it."""
