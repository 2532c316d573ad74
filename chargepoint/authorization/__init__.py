"""Who may charge: the authorization decision, the local list and cache, and their CSMS messages."""
