import factory
from django.contrib.auth import get_user_model

from channels.models import Store
from shipping.accounts.models import Membership, Merchant, Role


class MerchantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Merchant

    slug = factory.Sequence(lambda n: f"merchant-{n}")
    name = factory.Sequence(lambda n: f"Merchant {n}")
    contact_email = factory.LazyAttribute(lambda o: f"{o.slug}@example.com")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()

    username = factory.Sequence(lambda n: f"user{n}@example.com")
    email = factory.LazyAttribute(lambda o: o.username)
    password = factory.django.Password("pw-123456")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    merchant = factory.SubFactory(MerchantFactory)
    role = Role.OWNER


class StoreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Store

    merchant = factory.SubFactory(MerchantFactory)
    kind = "fake"
    name = factory.Sequence(lambda n: f"Store {n}")
    config = factory.LazyFunction(dict)
    credentials = factory.LazyFunction(dict)
