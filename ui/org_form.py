"""The organisation fields shared by the public form, the secretariat's entry form and the member edit form:
each field with its message beside it; what was typed stays on screen after a refusal."""

from dataclasses import replace

import streamlit as st

from domain.organisations import PROVINCES, OrganisationInput, OrgKind
from ui.forms import field_error
from ui.i18n import enum_label, t

KINDS = [k.value for k in OrgKind]


def organisation_fields(form: str, *, prefix: str, initial: OrganisationInput | None = None) -> OrganisationInput:
    """Draw the unit's fields inside an open st.form and return what is typed (not yet validated)."""
    start = initial or OrganisationInput(name="", kind=OrgKind.SOCIAL.value, province=PROVINCES[0])
    name = st.text_input(t("field.name") + " *", value=start.name, key=f"{prefix}_name")
    field_error(form, "name")
    left, right = st.columns(2)
    with left:
        kind = st.selectbox(
            t("field.kind") + " *",
            KINDS,
            index=KINDS.index(start.kind) if start.kind in KINDS else 0,
            format_func=lambda v: enum_label("org_kind", v),
            key=f"{prefix}_kind",
        )
        field_error(form, "kind")
        credit_code = st.text_input(
            t("field.credit_code"), value=start.credit_code, help=t("org_form.credit_code_help"), key=f"{prefix}_code"
        )
        field_error(form, "credit_code")
        contact_person = st.text_input(
            t("field.contact_person") + " *", value=start.contact_person, key=f"{prefix}_contact"
        )
        field_error(form, "contact_person")
        email = st.text_input(t("field.email"), value=start.email, key=f"{prefix}_email")
        field_error(form, "email")
    with right:
        province = st.selectbox(
            t("field.province") + " *",
            list(PROVINCES),
            index=PROVINCES.index(start.province) if start.province in PROVINCES else 0,
            key=f"{prefix}_province",
        )
        field_error(form, "province")
        city = st.text_input(t("field.city"), value=start.city, key=f"{prefix}_city")
        field_error(form, "city")
        phone = st.text_input(
            t("field.phone") + " *", value=start.phone, help=t("org_form.phone_help"), key=f"{prefix}_phone"
        )
        field_error(form, "phone")
        website = st.text_input(t("field.website"), value=start.website, key=f"{prefix}_website")
        field_error(form, "website")
    address = st.text_input(t("field.address"), value=start.address, key=f"{prefix}_address")
    field_error(form, "address")
    description = st.text_area(t("field.description"), value=start.description, key=f"{prefix}_description")
    field_error(form, "description")
    return replace(
        start,
        name=name,
        kind=kind,
        province=province,
        city=city,
        credit_code=credit_code,
        contact_person=contact_person,
        phone=phone,
        email=email,
        address=address,
        website=website,
        description=description,
    )
