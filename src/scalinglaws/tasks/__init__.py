"""Tasks: the analyses a spec asks for."""
