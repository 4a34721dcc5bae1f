"""The schools' side of the annual collection: templates, calendar, cycle status, tokens, audit and the portal."""
