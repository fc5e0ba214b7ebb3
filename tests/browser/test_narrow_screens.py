"""At 390 px (a phone), the staff pages a privacy team lives in and the public portal pages never scroll
sideways, and nothing sticks out of the screen: wide tables scroll inside their own box."""

import pytest

from tests.browser.test_staff_console import _login, _staff_pages, console  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
# Elements whose right edge passes the screen's, unless a box between them and the page scrolls or clips them.
STICKING_OUT = """() => {
  const width = innerWidth, out = [];
  for (const element of document.querySelectorAll('body *')) {
    const box = element.getBoundingClientRect();
    if (box.width === 0 || box.right <= width + 1) continue;
    let parent = element.parentElement, held = false;
    for (; parent && parent !== document.body; parent = parent.parentElement) {
      if (/auto|scroll|hidden|clip/.test(getComputedStyle(parent).overflowX)) { held = true; break; }
    }
    if (!held) out.push(element.tagName.toLowerCase() + (element.id ? '#' + element.id : '') + ' ' + Math.round(box.right) + ' px');
  }
  return out.slice(0, 5);
}"""
PUBLIC = [
    "/",
    "/privacy/",
    "/privacy/history/",
    "/privacy/data/",
    "/cookies/",
    "/third-parties/",
    "/requests/new/",
    "/accounts/login/",
    "/accounts/signup/",
    "/accounts/password/reset/",
]


def _problems(page, url) -> list[str]:
    response = page.goto(url)
    if response.status != 200:
        return [f"answered {response.status}"]
    problems = []
    width = page.evaluate("document.scrollingElement.scrollWidth")
    if width > PHONE["width"] + 1:
        problems.append(f"{width} px wide")
    problems += page.evaluate(STICKING_OUT)
    return problems


def test_staff_pages_fit_a_phone(browser, live_server, console, settings):  # noqa: F811
    context = browser.new_context(viewport=PHONE, locale="en-GB", is_mobile=True, has_touch=True)
    page = context.new_page()
    _login(page, live_server, console, settings)
    problems = {what: p for what, path in _staff_pages().items() if (p := _problems(page, live_server.url + path))}
    # Still usable: the request page's first action can be brought on screen.
    page.goto(live_server.url + _staff_pages()["a request page"])
    save = page.locator(".submit-row input[type=submit], .submit-row button").first
    if save.count():
        save.scroll_into_view_if_needed()
        box = save.bounding_box()
        if box["x"] < 0 or box["x"] + box["width"] > PHONE["width"] + 1:
            problems["a request page"] = [*problems.get("a request page", []), f"its first action is off screen: {box}"]
    context.close()
    assert not problems, "\n".join(f"{k}: {v}" for k, v in problems.items())


def test_public_pages_fit_a_phone(browser, live_server, console):  # noqa: F811
    context = browser.new_context(viewport=PHONE, locale="en-GB", is_mobile=True, has_touch=True)
    page = context.new_page()
    problems = {path: p for path in PUBLIC if (p := _problems(page, live_server.url + path))}
    context.close()
    assert not problems, "\n".join(f"{k}: {v}" for k, v in problems.items())
