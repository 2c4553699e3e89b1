"""A refused form, drawn again: the domain's sentence beside the field it is about.

When a form is refused, its page is drawn again with a `Refusal`: which form on the page was
sent (`form`, the name its fields' ids start with), the field the sentence is about, the
sentence itself with the refusal's 4xx status, and what the person had typed, so that nothing
is lost. The templates' field macros (templates/fields.html) put the sentence beside that field
(`aria-describedby`, `aria-invalid`) and move the focus there (`autofocus`: the pages run no
script); a refusal that is about no one field is shown at the top of the page, focused.

A field's own parsing (`Form.number`, `Form.day`, `Form.moment`) names its field
(`FieldRefused`); a refusal of the circle's rules is shown beside the form's main field, which
the handler names.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from domain.errors import DomainError, InvalidRequest
from node.http.api.errors import domain_problem
from node.http.web.forms import FieldRefused, Form


@dataclass(frozen=True)
class Refusal:
    form: str
    sentence: str
    status: int = 400
    field: str = ""
    entered: dict[str, str] = dataclasses.field(default_factory=dict)

    def about(self, form: str, name: str) -> bool:
        """Whether the sentence belongs beside this field of this form."""
        return self.form == form and self.field == name

    def value(self, form: str, name: str, default: str = "") -> str:
        """What the person had typed in this field, if this form was the one refused."""
        if self.form != form:
            return default
        return self.entered.get(name, default)


def refusal(error: DomainError, form_name: str, form: Form, main_field: str = "") -> Refusal:
    """The refusal of `form` (named `form_name` on its page) by `error`: beside the field the
    error names, or else, for a request the circle's rules find wanting (`InvalidRequest`),
    beside `main_field`. Who may do what, and when, is about no field: it is shown at the top
    of the page (templates/base.html), as is a refusal with no `main_field`."""
    problem = domain_problem(error)
    if isinstance(error, FieldRefused):
        about = error.field
    else:
        about = main_field if isinstance(error, InvalidRequest) else ""
    return Refusal(form_name, problem.detail, problem.status, about, form.values())
