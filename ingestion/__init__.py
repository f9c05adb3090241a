"""Lumbung: Indonesian education-programme data warehouse."""
