from __future__ import annotations

from allauth.mfa.models import Authenticator
from django.contrib import admin
from rest_framework.authtoken.models import TokenProxy

from contacts.models import Company, Contact, ContactEmail

# DRF's TokenAdmin lists every user's API token key and lets staff mint tokens for others. Users
# manage their own token on Settings → API token (contacts.services.api_token_create_or_rotate).
# rest_framework.authtoken comes before contacts in INSTALLED_APPS, so its admin is loaded by now.
admin.site.unregister(TokenProxy)

# allauth.mfa's admin shows an authenticator's `data`, which holds the TOTP secret and recovery
# codes: staff may see that a user has two-factor set up and remove it, never read its secret.
admin.site.unregister(Authenticator)


@admin.register(Authenticator)
class AuthenticatorAdmin(admin.ModelAdmin):
    list_display = ("user", "type", "created_at", "last_used_at")
    list_filter = ("type", "created_at", "last_used_at")
    search_fields = ("user__email",)
    fields = ("user", "type", "created_at", "last_used_at")
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:  # noqa: ANN001 - set up by the user only
        return False


class ContactInline(admin.TabularInline):
    model = Contact
    fields = ["name", "title", "phone"]
    extra = 0
    show_change_link = True


class ContactEmailInline(admin.TabularInline):
    model = ContactEmail
    extra = 1


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):
    list_display = ["name", "email_domains", "phone", "website", "updated_at"]
    search_fields = ["name", "email_domains", "phone"]
    list_filter = ["created_at"]
    inlines = [ContactInline]


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ["name", "title", "company", "phone", "primary_email"]
    search_fields = ["name", "title", "emails__email", "company__name"]
    list_filter = ["company"]
    list_select_related = ["company"]
    autocomplete_fields = ["company"]
    inlines = [ContactEmailInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("emails")

    @admin.display(description="primary e-mail")
    def primary_email(self, obj: Contact) -> str:
        return obj.primary_email
