import pytest

from orders.models import Warehouse
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

ADDRESS = {
    "name": "Lyon",
    "address_name": "Refurb Hub",
    "address_street1": "12 rue de la République",
    "address_city": "Lyon",
    "address_postal_code": "69002",
    "address_country": "fr",
}


def test_owner_adds_the_first_warehouse_which_becomes_the_default(client_owner, merchant):
    response = client_owner.post("/warehouses/", ADDRESS)
    assert response.status_code == 302
    warehouse = Warehouse.objects.get(merchant=merchant)
    assert (warehouse.is_default, warehouse.address_country) == (True, "FR")


def test_a_second_default_takes_over_and_there_is_only_one(client_owner, merchant):
    client_owner.post("/warehouses/", ADDRESS)
    client_owner.post("/warehouses/", {**ADDRESS, "name": "Paris", "is_default": "on"})
    assert list(Warehouse.objects.filter(merchant=merchant, is_default=True).values_list("name", flat=True)) == [
        "Paris"
    ]


def test_missing_fields_and_a_duplicate_name_show_errors_in_place(client_owner, merchant):
    response = client_owner.post("/warehouses/", {**ADDRESS, "address_street1": "", "address_country": "F1"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "This field is required." in page and "Two letters" in page
    client_owner.post("/warehouses/", ADDRESS)
    response = client_owner.post("/warehouses/", ADDRESS)
    assert "This name is taken." in response.content.decode()
    assert Warehouse.objects.filter(merchant=merchant).count() == 1


def test_only_owners_and_only_their_own(client, merchant, client_owner):
    client_owner.post("/warehouses/", ADDRESS)
    warehouse = Warehouse.objects.get(merchant=merchant)
    client.force_login(MembershipFactory(merchant=merchant, role="warehouse").user)
    assert client.get("/warehouses/").status_code == 403
    client.force_login(MembershipFactory().user)  # an owner of another merchant
    assert client.get(f"/warehouses/{warehouse.pk}/").status_code == 404
    assert client.post(f"/warehouses/{warehouse.pk}/", {**ADDRESS, "name": "Stolen"}).status_code == 404
    warehouse.refresh_from_db()
    assert warehouse.name == "Lyon"
