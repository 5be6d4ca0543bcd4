from django.db import models
from django.test.utils import isolate_apps

from shipping.core.models import TimeStampedModel


def test_is_abstract_with_automatic_timestamps():
    assert TimeStampedModel._meta.abstract
    created = TimeStampedModel._meta.get_field("created_at")
    updated = TimeStampedModel._meta.get_field("updated_at")
    assert isinstance(created, models.DateTimeField) and created.auto_now_add
    assert isinstance(updated, models.DateTimeField) and updated.auto_now


@isolate_apps("shipping.core")
def test_subclass_inherits_the_fields():
    class Thing(TimeStampedModel):
        class Meta:
            app_label = "core"

    assert {f.name for f in Thing._meta.get_fields()} >= {"created_at", "updated_at"}
