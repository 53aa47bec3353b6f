from __future__ import annotations

import pytest
from django.core.cache import cache
from django.http import Http404

from contacts import selectors
from contacts.services import user_alias_add
from tests.factories import CompanyFactory, ContactFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_contacts_by_emails_is_case_insensitive_and_one_query(django_assert_num_queries):
    johan = ContactFactory(emails=["johan.ek@acme.se", "johan@acme.com"])
    with django_assert_num_queries(1):
        found = selectors.contacts_by_emails(["Johan.EK@Acme.se", "JOHAN@acme.com", "x@y.se"])
    assert found == {"johan.ek@acme.se": johan, "johan@acme.com": johan}


def test_contacts_by_emails_without_addresses_makes_no_query(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert selectors.contacts_by_emails(["", "  "]) == {}


def test_user_addresses_include_aliases_lower_cased():
    karl = UserFactory(email="Karl.Andersson@exempel.se")
    user_alias_add(user=karl, email="karl@sthlm.exempel.se")
    assert selectors.sync_directory(karl.pk).addresses == {
        "karl.andersson@exempel.se",
        "karl@sthlm.exempel.se",
    }


def test_user_directory_is_cached_and_forgotten_when_an_address_changes(
    django_assert_num_queries, django_capture_on_commit_callbacks
):
    karl = UserFactory(email="karl.andersson@exempel.se")
    assert selectors.sync_directory(karl.pk) == (
        {"karl.andersson@exempel.se"}, {"exempel.se"}, {"exempel.se"}
    )  # fmt: skip
    with django_assert_num_queries(0):  # read once, then from the cache
        assert selectors.sync_directory(karl.pk).colleague_domains == {"exempel.se"}
        assert selectors.sync_directory(karl.pk).addresses == {"karl.andersson@exempel.se"}
    with django_capture_on_commit_callbacks(execute=True):
        user_alias_add(user=karl, email="karl@gbg.exempel.se")
    assert selectors.sync_directory(karl.pk).colleague_domains == {"exempel.se", "gbg.exempel.se"}
    assert "karl@gbg.exempel.se" in selectors.sync_directory(karl.pk).addresses
    eva = UserFactory(email="eva@nordisk.se")
    assert "nordisk.se" in selectors.sync_directory(karl.pk).colleague_domains
    eva.is_active = False
    eva.save()
    assert "nordisk.se" not in selectors.sync_directory(karl.pk).address_domains
    karl.last_login = karl.date_joined
    karl.save(update_fields=["last_login"])  # a sign-in changes no address: still cached
    with django_assert_num_queries(0):
        assert selectors.sync_directory(karl.pk).colleague_domains == {
            "exempel.se",
            "gbg.exempel.se",
        }
    eva.delete()


def test_sync_directory_read_in_two_queries_when_not_cached(django_assert_num_queries):
    """Both domain sets come from one statement (logins and aliases), the rep's addresses from
    another; cached, none."""
    karl = UserFactory(email="karl.andersson@exempel.se")
    user_alias_add(user=karl, email="karl@gbg.exempel.se")
    UserFactory(email="eva@nordisk.se", is_active=False)
    cache.clear()
    with django_assert_num_queries(2):
        directory = selectors.sync_directory(karl.pk)
    assert (
        directory.colleague_domains == directory.address_domains == {"exempel.se", "gbg.exempel.se"}
    )
    assert directory.addresses == {"karl.andersson@exempel.se", "karl@gbg.exempel.se"}
    with django_assert_num_queries(0):
        assert selectors.sync_directory(karl.pk) == directory


def test_users_by_emails_finds_login_and_alias_case_insensitively(django_assert_max_num_queries):
    karl = UserFactory(email="karl.andersson@exempel.se")
    user_alias_add(user=karl, email="karl@exempel.se")
    with django_assert_max_num_queries(2):
        found = selectors.users_by_emails(
            ["KARL@exempel.se", "Karl.Andersson@Exempel.se", "a@b.se"]
        )
    assert found == {"karl@exempel.se": karl, "karl.andersson@exempel.se": karl}


def test_users_by_emails_ignores_inactive_users():
    UserFactory(email="gone@exempel.se", is_active=False)
    assert selectors.users_by_emails(["gone@exempel.se"]) == {}


def test_user_domains_are_exact_and_include_aliases():
    karl = UserFactory(email="karl.andersson@exempel.se")
    user_alias_add(user=karl, email="karl@sthlm.exempel.se")
    UserFactory(email="old@gbg.exempel.se", is_active=False)
    assert selectors.sync_directory(karl.pk).colleague_domains == {"exempel.se", "sthlm.exempel.se"}
    assert "gbg.exempel.se" not in selectors.sync_directory(karl.pk).colleague_domains


def test_user_domains_leave_out_free_mail_domains():
    karl = UserFactory(email="karl.andersson@exempel.se")
    user_alias_add(user=karl, email="karl.andersson@gmail.com")  # a connected gmail account
    UserFactory(email="eva.lind@outlook.com")
    assert selectors.sync_directory(karl.pk).colleague_domains == {"exempel.se"}
    assert set(selectors.users_by_emails(["eva.lind@outlook.com"])) == {"eva.lind@outlook.com"}


def test_user_address_domains_include_free_mail_and_leave_out_inactive_users():
    karl = UserFactory(email="karl.andersson@exempel.se")
    user_alias_add(user=karl, email="Karl.Andersson@Gmail.com")
    UserFactory(email="old@gbg.exempel.se", is_active=False)
    assert selectors.sync_directory(karl.pk).address_domains == {"exempel.se", "gmail.com"}


def test_company_list_searches_name_and_domains():
    rep = UserFactory()
    acme = CompanyFactory(name="Acme Sverige AB", email_domains="acme.se")
    CompanyFactory(name="Nordisk Logistik AB", email_domains="nordisk.se")
    assert list(selectors.company_list(user=rep, search="acme")) == [acme]


def test_company_register_is_hidden_without_view_permission():
    stranger = UserFactory(sales_rep=False)
    acme = CompanyFactory()
    ContactFactory(company=acme)
    assert not selectors.company_list(user=stranger).exists()
    assert not selectors.contact_list(user=stranger).exists()
    with pytest.raises(Http404):
        selectors.company_get(user=stranger, pk=acme.pk)


def test_contact_list_searches_by_email_and_filters_by_company():
    rep = UserFactory()
    acme = CompanyFactory()
    johan = ContactFactory(company=acme, emails=["johan.ek@acme.se"])
    ContactFactory(emails=["annan@kund.se"])
    assert list(selectors.contact_list(user=rep, search="johan.ek@")) == [johan]
    assert list(selectors.contact_list(user=rep, company=acme)) == [johan]


def test_contact_get_is_404_for_a_missing_contact():
    with pytest.raises(Http404):
        selectors.contact_get(user=UserFactory(), pk=999999)


def test_the_cache_keeps_a_directory_entry_per_rep_past_djangos_300_files():
    """The file cache (one host, no Redis) culled a third of its files at random at 300: the
    user directory keeps an entry per rep, so a sync re-read what it had just cached."""
    from django.core.cache import cache

    for i in range(400):
        cache.set(f"test-directory-entry:{i}", i)
    assert [cache.get(f"test-directory-entry:{i}") for i in range(400)] == list(range(400))
