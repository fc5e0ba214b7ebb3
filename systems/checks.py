"""System check, run on demand (``manage.py check --deploy --tag systems``): declared columns that are gone."""

from django.core import checks
from django.db import DatabaseError


def declared_columns_check(app_configs=None, **kwargs):
    """Connect to every SQL system and report declared tables and columns its database no longer has."""
    from systems.discovery import declared_but_missing
    from systems.engine import SystemUnavailable
    from systems.selectors import list_sql_systems

    try:
        systems = list_sql_systems()
    except DatabaseError:
        return []  # the portal's own database is not migrated yet: nothing is declared
    messages = []
    for system in systems:
        try:
            missing = declared_but_missing(system=system)
        except SystemUnavailable as exc:
            messages.append(
                checks.Warning(f"cannot read the database's layout ({exc.reason}).", id="systems.W001", obj=system)
            )
            continue
        for table, column in missing:
            what = f"table '{table}'" if column is None else f"column '{table}.{column}'"
            messages.append(
                checks.Error(
                    f"declared {what} no longer exists in the database.",
                    hint="Run discover_system to see the difference, then update the declaration.",
                    obj=system,
                    id="systems.E001",
                )
            )
    return messages
