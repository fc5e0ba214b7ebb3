"""The portal's languages come from one list: settings.LANGUAGES, read through core.languages."""

from core import languages


def test_languages_follow_the_settings(settings):
    settings.LANGUAGES = [("en", "English"), ("fr", "Français"), ("es", "Español")]
    assert languages.language_codes() == ("en", "fr", "es")
    assert languages.language_name("es") == "Español"
    assert languages.language_name("xx") == "xx"
    # A form field reads its choices when it is built, so a form follows the settings too.
    from requests_app.forms import StaffIntakeForm

    assert [code for code, _name in StaffIntakeForm().fields["language"].choices] == ["en", "fr", "es"]


def test_every_list_of_languages_is_the_settings_list(settings):
    from consent import admin as consent_admin
    from consent.banner import banner_languages
    from consent.models import LANGS, Property

    codes = tuple(code for code, _name in settings.LANGUAGES)
    assert languages.language_codes() == codes
    assert LANGS == codes
    assert tuple(banner_languages()) == codes
    assert tuple(code for code, _label in Property._meta.get_field("default_language").choices) == codes
    assert {f"name_{code}" for code in codes} <= set(consent_admin.CategoryForm.base_fields)
    assert languages.BASE_LANGUAGE in codes
