from collections.abc import Callable
from typing import Any, TypeVar

from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404

from .errors import ApplicationError

T = TypeVar("T")


def get_or_404(selector: Callable[..., T], **kwargs: Any) -> T:
    """Call a scoped selector; "not yours" and "not there" both answer 404."""
    try:
        return selector(**kwargs)
    except ObjectDoesNotExist as exc:
        raise Http404("Not found.") from exc


def form_errors_from(form: Any, exc: ApplicationError) -> None:
    """A service's errors on the form: each on its field when the form has it, else at the top."""
    for field, problems in (exc.field_errors or {}).items():
        for problem in problems:
            form.add_error(field if field in form.fields else None, problem)
    if not exc.field_errors or not set(exc.field_errors) & set(form.fields):
        form.add_error(None, exc.message)
