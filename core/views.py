from django.shortcuts import render


def home(request):
    """The privacy centre: one place that links to every right and setting."""
    return render(request, "core/home.html")
