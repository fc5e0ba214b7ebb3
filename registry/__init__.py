"""Personal-data registry: ``registry.site`` holds what every app declares in its ``privacy.py``."""

from registry.sites import Dataset, LegalBasis, PersonalField, PrivacyRegistry, RetentionRule, site
from registry.strategies import MASK_TEXT, Strategy, pseudonymise

__all__ = [
    "MASK_TEXT",
    "Dataset",
    "LegalBasis",
    "PersonalField",
    "PrivacyRegistry",
    "RetentionRule",
    "Strategy",
    "pseudonymise",
    "site",
]
