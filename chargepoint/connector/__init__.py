"""A connector: its facts, the status derived from them, and the charging flow that changes them."""
