"""Factories shared across apps. Personal data here is made up, on example.com."""

import factory
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model

DEFAULT_PASSWORD = "Correct-horse-42"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.Sequence(lambda n: f"user{n}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")

    @factory.post_generation
    def password(obj, create, extracted, **kwargs):
        obj.set_password(extracted or DEFAULT_PASSWORD)
        if create:
            obj.save(update_fields=["password"])

    @factory.post_generation
    def verified(obj, create, extracted, **kwargs):
        if create:
            EmailAddress.objects.create(user=obj, email=obj.email, verified=extracted is not False, primary=True)
