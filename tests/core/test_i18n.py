"""The portal speaks English, French, Dutch and German, chosen from the browser's Accept-Language."""

import ast
import gettext
import re
from pathlib import Path

import pytest
from django.conf import settings

LOCALE_DIR = Path(settings.BASE_DIR) / "locale"
LANGUAGES = ["fr", "nl", "de"]

# Page -> strings a visitor must see in each language (headings, navigation, buttons).
EXPECTED = {
    "/": {
        "fr": ["Votre vie privée chez", "Qui est responsable", "Vos droits", "Se connecter"],
        "nl": ["Uw privacy bij", "Wie is verantwoordelijk", "Uw rechten", "Inloggen"],
        "de": ["Ihre Privatsphäre bei", "Wer verantwortlich ist", "Ihre Rechte", "Anmelden"],
    },
    "/privacy/data/": {
        "fr": ["Les données que nous détenons", "Combien de temps", "faire une demande"],
        "nl": ["Welke gegevens we bewaren", "Hoelang", "een verzoek indienen"],
        "de": ["Welche Daten wir speichern", "Wie lange", "einen Antrag stellen"],
    },
    "/cookies/": {
        "fr": ["Déclaration de cookies", "Paramètres des cookies"],
        "nl": ["Cookieverklaring", "Cookie-instellingen"],
        "de": ["Cookie-Erklärung", "Cookie-Einstellungen"],
    },
    "/requests/new/": {
        "fr": ["Exercer vos droits sur vos données", "Envoyer la demande"],
        "nl": ["Uw privacyrechten uitoefenen", "Verzoek versturen"],
        "de": ["Ihre Datenschutzrechte ausüben", "Antrag senden"],
    },
    "/accounts/login/": {
        "fr": ["Se connecter", "Mot de passe", "Centre de confidentialité"],
        "nl": ["Wachtwoord", "Privacycentrum"],
        "de": ["Passwort", "Datenschutzzentrum"],
    },
}


@pytest.mark.django_db
@pytest.mark.smoke
@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("url", list(EXPECTED))
def test_page_renders_in_the_browser_language(client, url, lang):
    response = client.get(url, HTTP_ACCEPT_LANGUAGE=f"{lang},en;q=0.5")
    assert response.status_code == 200
    html = response.content.decode()
    assert f'<html lang="{lang}">' in html
    for text in EXPECTED[url][lang]:
        assert text in html, f"{url} in {lang} lacks {text!r}"


@pytest.mark.django_db
def test_footer_language_switcher_overrides_the_browser_and_sticks(client):
    home = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'action="/i18n/setlang/"' in home and '<option value="de" lang="de">Deutsch</option>' in home
    response = client.post("/i18n/setlang/", {"language": "de", "next": "/cookies/"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 302 and response["Location"] == "/cookies/"
    html = client.get("/cookies/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="de">' in html and "Cookie-Erklärung" in html
    assert '<option value="de" lang="de" selected>Deutsch</option>' in html
    # A request filed now is answered in the chosen language.
    client.post(
        "/requests/new/",
        {
            "kind": "access",
            "requester_name": "Greta Beispiel",
            "requester_email": "greta@example.com",
            "relationship": "customer",
            "jurisdiction": "gdpr",
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )
    from requests_app.models import DataRequest

    assert DataRequest.objects.get(requester_email="greta@example.com").language == "de"


@pytest.mark.django_db
def test_language_switcher_refuses_a_foreign_redirect(client):
    response = client.post("/i18n/setlang/", {"language": "fr", "next": "https://evil.example/"})
    assert response.status_code == 302 and response["Location"] == "/"


@pytest.mark.django_db
def test_english_stays_the_default(client):
    html = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Who is responsible" in html and "Qui est responsable" not in html


def _po_entries(path: Path) -> list[dict]:
    """Entries of a .po file: flags, msgctxt, msgid, msgid_plural and msgstr forms, unescaped; obsolete ones skipped."""
    entries, cur, field = [], None, None
    for line in path.read_text(encoding="utf-8").splitlines() + [""]:
        if not line.strip():
            if cur is not None:
                entries.append(cur)
            cur, field = None, None
            continue
        if line.startswith("#~"):
            continue
        if cur is None:
            cur = {"flags": set(), "msgctxt": None, "msgid": "", "msgid_plural": None, "msgstr": {}}
        if line.startswith("#,"):
            cur["flags"] |= {f.strip() for f in line[2:].split(",")}
            continue
        if line.startswith("#"):
            continue
        match = re.match(r'(msgctxt|msgid_plural|msgid|msgstr(?:\[\d\])?) (".*")$', line)
        if match:
            field, value = match.group(1), match.group(2)
        else:
            value = line
        text = ast.literal_eval(value)
        if field.startswith("msgstr"):
            cur["msgstr"][field] = cur["msgstr"].get(field, "") + text
        elif field == "msgid_plural":
            cur["msgid_plural"] = (cur["msgid_plural"] or "") + text
        elif field == "msgid":
            cur["msgid"] += text
        elif field == "msgctxt":
            cur["msgctxt"] = (cur["msgctxt"] or "") + text
    return [e for e in entries if e["msgid"]]


PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


@pytest.mark.smoke
@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_message_is_translated_and_compiled(lang):
    po = LOCALE_DIR / lang / "LC_MESSAGES" / "django.po"
    entries = _po_entries(po)
    assert len(entries) > 500
    with open(po.with_suffix(".mo"), "rb") as fh:
        compiled = gettext.GNUTranslations(fh)._catalog
    problems = []
    for e in entries:
        forms = list(e["msgstr"].values())
        if "fuzzy" in e["flags"] or not forms or not all(forms):
            problems.append(f"untranslated or fuzzy: {e['msgid']!r}")
            continue
        wanted = set(PLACEHOLDER.findall(e["msgid"] + (e["msgid_plural"] or "")))
        for form in forms:
            if set(PLACEHOLDER.findall(form)) != wanted:
                problems.append(f"placeholders differ: {e['msgid']!r} -> {form!r}")
        # A message with a context is compiled under "context\x04msgid".
        msgid = f"{e['msgctxt']}\x04{e['msgid']}" if e["msgctxt"] is not None else e["msgid"]
        key = (msgid, 0) if e["msgid_plural"] else msgid
        if compiled.get(key) != forms[0]:
            problems.append(f"not compiled into django.mo: {e['msgid']!r}")
    assert not problems, "\n".join(problems[:20])
