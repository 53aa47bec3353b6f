"""Company (customer card) and contact pages. Reads via selectors, writes via services."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from appointments import selectors as appointment_selectors
from contacts import selectors, services
from contacts.forms import CompanyForm, ContactForm

PAGE_SIZE = 25


def _page(request: HttpRequest, queryset):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def _form_error(request: HttpRequest, form, err: PermissionDenied) -> None:
    form.add_error(None, str(err) or _("You are not allowed to do that."))


# --- companies -------------------------------------------------------------------------------


@login_required
def company_list(request: HttpRequest) -> HttpResponse:
    search = request.GET.get("q", "").strip()
    page_obj = _page(request, selectors.company_list(user=request.user, search=search))
    return render(request, "contacts/company_list.html", {"page_obj": page_obj, "q": search})


@login_required
def company_detail(request: HttpRequest, pk: int) -> HttpResponse:
    company = selectors.company_get(user=request.user, pk=pk)
    upcoming, past = appointment_selectors.appointments_for_company(
        user=request.user, company=company
    )
    contacts = selectors.contact_list(user=request.user, company=company)
    context = {"company": company, "contacts": contacts, "upcoming": upcoming, "past": past}
    return render(request, "contacts/company_detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def company_create(request: HttpRequest) -> HttpResponse:
    form = CompanyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            company = services.company_create(actor=request.user, **form.cleaned_data)
        except PermissionDenied as err:
            _form_error(request, form, err)
        else:
            messages.success(request, _("The company was created."))
            return redirect(company.get_absolute_url())
    return render(request, "contacts/company_form.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def company_edit(request: HttpRequest, pk: int) -> HttpResponse:
    company = selectors.company_get(user=request.user, pk=pk)
    form = CompanyForm(request.POST or None, initial=CompanyForm.initial_for(company))
    if request.method == "POST" and form.is_valid():
        try:
            services.company_update(actor=request.user, company=company, **form.cleaned_data)
        except PermissionDenied as err:
            _form_error(request, form, err)
        else:
            messages.success(request, _("The company was saved."))
            return redirect(company.get_absolute_url())
    return render(request, "contacts/company_form.html", {"form": form, "company": company})


# --- contacts --------------------------------------------------------------------------------


@login_required
def contact_list(request: HttpRequest) -> HttpResponse:
    search = request.GET.get("q", "").strip()
    page_obj = _page(request, selectors.contact_list(user=request.user, search=search))
    return render(request, "contacts/contact_list.html", {"page_obj": page_obj, "q": search})


@login_required
def contact_detail(request: HttpRequest, pk: int) -> HttpResponse:
    contact = selectors.contact_get(user=request.user, pk=pk)
    timeline = appointment_selectors.appointment_timeline_for_contact(
        user=request.user, contact=contact
    )
    return render(
        request, "contacts/contact_detail.html", {"contact": contact, "timeline": timeline}
    )


def _contact_form(request: HttpRequest, **kwargs) -> ContactForm:
    companies = selectors.company_list(user=request.user)
    return ContactForm(request.POST or None, companies=companies, **kwargs)


@login_required
@require_http_methods(["GET", "POST"])
def contact_create(request: HttpRequest) -> HttpResponse:
    initial = {"company": request.GET.get("company")} if request.GET.get("company") else None
    form = _contact_form(request, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            contact = services.contact_create(actor=request.user, **form.cleaned_data)
        except PermissionDenied as err:
            _form_error(request, form, err)
        else:
            messages.success(request, _("The contact was created."))
            return redirect(contact.get_absolute_url())
    return render(request, "contacts/contact_form.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def contact_edit(request: HttpRequest, pk: int) -> HttpResponse:
    contact = selectors.contact_get(user=request.user, pk=pk)
    initial = {
        "name": contact.name,
        "title": contact.title,
        "phone": contact.phone,
        "company": contact.company_id,
        "emails": [e.email for e in contact.emails.all()],
    }
    form = _contact_form(request, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.contact_update(actor=request.user, contact=contact, **form.cleaned_data)
        except PermissionDenied as err:
            _form_error(request, form, err)
        else:
            messages.success(request, _("The contact was saved."))
            return redirect(contact.get_absolute_url())
    return render(request, "contacts/contact_form.html", {"form": form, "contact": contact})
