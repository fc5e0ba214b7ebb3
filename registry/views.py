"""The public summary of the data held, and the record of processing as CSV for staff."""

from django.http import HttpResponse
from django.shortcuts import render

from core import csvsafe
from core.permissions import staff_perm_required
from registry import selectors


def public_data(request):
    """What we collect, why, for how long, and who receives it."""
    return render(request, "registry/public_data.html", {"datasets": selectors.public_summary()})


@staff_perm_required("registry.view_recordofprocessing")
def inventory_csv(request):
    """The record of processing as CSV: one row per processing activity."""
    rows = [a.as_row() for a in selectors.processing_activities()]
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="record-of-processing.csv"'
    columns = list(selectors.Activity(purpose="").as_row())
    writer = csvsafe.writer(response)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row[c] for c in columns])
    return response
