"""Column-wise normalisers: pure functions over polars Series, no I/O.

Each normaliser takes the text of a column (and, where it matters, each cell's kind as the
reader saw it) and returns the normalised values beside a reason column (null where the value
is fine). They never raise on a user's data.
"""
