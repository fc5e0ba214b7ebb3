from django.http import Http404
from django.shortcuts import render

from consent.models import Property

# The demo website the scanner finds on a first scan (seeded by scanner/demo_data.py).
DEMO_SHOP_PAGE = "Demo shop page"


def shop_page(request):
    """A page of the organisation's demo shop: its banner, a tag that ignores consent and one that waits for it."""
    prop = Property.objects.filter(name=DEMO_SHOP_PAGE).first()
    if prop is None:
        raise Http404
    return render(request, "demo/shop.html", {"key": prop.key})
