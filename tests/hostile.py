"""The shape of the hostile-input test modules (``tests/<subpackage>/test_hostile_*.py``).

Each module holds a table, ``CASES``: rows of ``(case id, hostile input, expected
behaviour)``, plain strings, and one test per row, marked with ``@case(case_id)``. The
user guide's page of hostile inputs is generated from these tables
(``docs/sphinxext/hostile_tables.py`` reads them without importing the tests), so the
page shows exactly what the suite checks. ``check_every_case_is_tested`` fails when a
row has no test, or a test no row.
"""

__all__ = ["case", "check_every_case_is_tested"]


def case(case_id):
    """Mark a test as the check of the table row ``case_id``."""

    def mark(test):
        test.hostile_case = case_id
        return test

    return mark


def check_every_case_is_tested(namespace, cases):
    """Every row of ``cases`` has exactly one test in ``namespace``, and no more."""
    ids = [row[0] for row in cases]
    assert len(set(ids)) == len(ids), "duplicate case ids"
    for row in cases:
        assert len(row) == 3 and all(isinstance(cell, str) for cell in row), row
    tested = sorted(
        value.hostile_case
        for value in namespace.values()
        if callable(value) and hasattr(value, "hostile_case")
    )
    assert tested == sorted(ids)
