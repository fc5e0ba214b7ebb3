"""The standard categories and purposes, with their texts in every supported language."""

from consent.models import Category, Purpose, PurposeVersion

CATEGORIES = [
    (
        "necessary",
        {
            "en": "Strictly necessary",
            "fr": "Strictement nécessaires",
            "nl": "Strikt noodzakelijk",
            "de": "Unbedingt erforderlich",
        },
        {
            "en": "Needed for the site to work: signing in, security and remembering your cookie choice. Always on.",
            "fr": "Indispensables au fonctionnement du site : connexion, sécurité et mémorisation de votre choix. Toujours actifs.",
            "nl": "Nodig om de site te laten werken: inloggen, beveiliging en het onthouden van uw keuze. Altijd aan.",
            "de": "Für den Betrieb nötig: Anmeldung, Sicherheit und das Speichern Ihrer Auswahl. Immer aktiv.",
        },
    ),
    (
        "features",
        {"en": "Features", "fr": "Fonctionnalités", "nl": "Functies", "de": "Funktionen"},
        {
            "en": "Remember your settings, such as staying signed in or your language, and embedded content.",
            "fr": "Retiennent vos réglages, comme rester connecté ou votre langue, et le contenu intégré.",
            "nl": "Onthouden uw instellingen, zoals ingelogd blijven of uw taal, en ingesloten inhoud.",
            "de": "Speichern Ihre Einstellungen, etwa angemeldet bleiben oder Ihre Sprache, und eingebettete Inhalte.",
        },
    ),
    (
        "performance",
        {"en": "Performance", "fr": "Performance", "nl": "Prestaties", "de": "Leistung"},
        {
            "en": "Count visits and measure how the site is used, so that we can improve it.",
            "fr": "Comptent les visites et mesurent l'utilisation du site pour l'améliorer.",
            "nl": "Tellen bezoeken en meten hoe de site wordt gebruikt, zodat we hem kunnen verbeteren.",
            "de": "Zählen Besuche und messen die Nutzung, damit wir die Website verbessern können.",
        },
    ),
    (
        "targeting",
        {"en": "Targeting", "fr": "Ciblage", "nl": "Targeting", "de": "Targeting"},
        {
            "en": "Used by advertising partners to show ads that match your interests, here and on other sites.",
            "fr": "Utilisés par nos partenaires publicitaires pour afficher des annonces adaptées à vos intérêts.",
            "nl": "Gebruikt door advertentiepartners om advertenties te tonen die bij uw interesses passen.",
            "de": "Von Werbepartnern genutzt, um Werbung passend zu Ihren Interessen zu zeigen.",
        },
    ),
]

PURPOSES = [
    (
        Purpose.MARKETING,
        "Marketing e-mails",
        "We may send you news about our products and occasional offers by e-mail. Every such e-mail has a "
        "one-click unsubscribe link.",
    ),
    (
        Purpose.THIRD_PARTY_SHARING,
        "Sharing with named third parties",
        "We may share your contact and account details with the third parties listed on our third-parties page, "
        "for the purposes listed there. We ask again before adding anyone to that list.",
    ),
    (
        Purpose.RESEARCH,
        "Product research and statistics",
        "We may use how you use our services, and invite you to surveys, to improve our products. Results are "
        "published only as statistics in which you cannot be recognised.",
    ),
]


def ensure_categories() -> dict[str, Category]:
    """Create the four standard categories if missing; return them by key."""
    out = {}
    for order, (key, name, description) in enumerate(CATEGORIES):
        out[key], _ = Category.objects.get_or_create(
            key=key, defaults={"name": name, "description": description, "order": order}
        )
    return out


def ensure_purposes() -> dict[str, Purpose]:
    """Create the three standard purposes with wording version 1 if missing."""
    out = {}
    for order, (key, title, wording) in enumerate(PURPOSES):
        purpose, _ = Purpose.objects.get_or_create(key=key, defaults={"order": order})
        if not purpose.versions.exists():
            PurposeVersion.objects.create(purpose=purpose, version=1, title=title, wording=wording)
        out[key] = purpose
    return out
