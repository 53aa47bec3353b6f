"""The exclusion-list rules, by name (``calendar_sync/sync/rules.py``)."""

from __future__ import annotations

import pytest

from calendar_sync.sync import planning, rules
from calendar_sync.sync.rules import SkipReason

from .test_rules import WINDOW, att, classify, event

ENTRIES = rules.exclusions_from(["ceo@client.test", "@lawfirm.test", "*.bank.test"])


@pytest.mark.parametrize(
    ("raw", "parsed"),
    [
        (" CEO@Client.TEST ", ("ceo@client.test", "address")),
        ("@LawFirm.test", ("@lawfirm.test", "domain")),
        ("lawfirm.test", ("@lawfirm.test", "domain")),  # a bare domain is a domain entry
        ("*.Bank.test", ("*.bank.test", "subdomains")),
        ("@sub.lawfirm.test", ("@sub.lawfirm.test", "domain")),
        ("kund@bücher.test", ("kund@bücher.test", "address")),
    ],
)
def test_exclusion_parse_normalises(raw, parsed):
    assert rules.exclusion_parse(raw) == parsed


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "Enter an address"),
        ("   ", "Enter an address"),
        ("a\x00b.test", "control characters"),
        ("ceo@client.test\x1f", "control characters"),
        ("x" * 250 + ".test", "at most 254"),
        ("two words.test", "spaces"),
        ("a@b.test c@d.test", "spaces"),
        ("@com", "not a domain"),
        ("*.com", "not a domain"),  # a whole top-level domain is never one entry
        ("*.", "not a domain"),
        ("@", "not a domain"),
        ("@-lawfirm.test", "not a domain"),
        ("@law_firm.test", "not a domain"),
        ("@lawfirm..test", "not a domain"),
        ("ceo@@client.test", "not an e-mail address"),
        ("ce o@client.test", "spaces"),
        ("@ceo@client.test", "not a domain"),
    ],
)
def test_exclusion_parse_refuses_with_a_reason(raw, message):
    with pytest.raises(rules.InvalidExclusion, match=message):
        rules.exclusion_parse(raw)


def test_exclusions_from_sorts_entries_by_kind():
    assert ENTRIES == rules.Exclusions(
        addresses=frozenset({"ceo@client.test"}),
        domains=frozenset({"lawfirm.test"}),
        subdomains=frozenset({"bank.test"}),
    )
    assert not rules.exclusions_from([])


@pytest.mark.parametrize(
    ("email", "excluded"),
    [
        ("ceo@client.test", True),
        ("CEO@Client.test ", True),
        ("cfo@client.test", False),  # an address entry is that address only
        ("anyone@lawfirm.test", True),
        ("anyone@gbg.lawfirm.test", False),  # @domain is exactly that domain
        ("anyone@bank.test", True),  # *.bank.test covers bank.test itself
        ("anyone@x.bank.test", True),
        ("anyone@a.b.bank.test", True),
        ("anyone@notbank.test", False),
        ("anyone@bank.test.example", False),
        ("", False),
    ],
)
def test_is_excluded(email, excluded):
    assert rules.is_excluded(email, ENTRIES) is excluded


def test_is_excluded_false_without_entries():
    assert not rules.is_excluded("ceo@client.test", rules.Exclusions())


def _classify(ev):
    return rules.classify_event(
        ev,
        rep_addresses=["karl@exempel.se"],
        user_emails={"karl@exempel.se", "eva@exempel.se"},
        user_domains={"exempel.se"},
        exclusions=ENTRIES,
    )


def test_classify_event_puts_excluded_externals_apart():
    cls = _classify(event(attendees=[att("ceo@client.test"), att("kund@acme.test")]))
    assert cls.externals == ["kund@acme.test"]
    assert cls.excluded == ["ceo@client.test"]


def test_classify_event_never_excludes_users_or_colleagues():
    entries = rules.exclusions_from(["@exempel.se"])
    cls = rules.classify_event(
        event(attendees=[att("eva@exempel.se"), att("per@exempel.se")]),
        rep_addresses=["karl@exempel.se"],
        user_emails={"eva@exempel.se"},
        user_domains={"exempel.se"},
        exclusions=entries,
    )
    assert (cls.users, cls.colleagues, cls.excluded) == (["eva@exempel.se"], ["per@exempel.se"], [])


def test_only_excluded_externals():
    assert rules.only_excluded_externals(_classify(event(attendees=[att("a@x.bank.test")])))
    mixed = _classify(event(attendees=[att("a@x.bank.test"), att("kund@acme.test")]))
    assert not rules.only_excluded_externals(mixed)
    assert not rules.only_excluded_externals(_classify(event(attendees=[att("eva@exempel.se")])))


def test_skip_reason_excluded_when_every_external_is_excluded():
    ev = event(attendees=[att("ceo@client.test"), att("partner@lawfirm.test")])
    assert rules.skip_reason(ev, _classify(ev), window=WINDOW) == SkipReason.EXCLUDED


def test_skip_reason_excluded_also_with_users_present():
    ev = event(attendees=[att("ceo@client.test"), att("eva@exempel.se")])
    assert rules.skip_reason(ev, _classify(ev), window=WINDOW) == SkipReason.EXCLUDED


def test_skip_reason_none_when_one_external_is_not_excluded():
    ev = event(attendees=[att("ceo@client.test"), att("kund@acme.test")])
    assert rules.skip_reason(ev, _classify(ev), window=WINDOW) is None


def test_skip_reason_excluded_organizer_inviting_only_the_rep():
    ev = event(organizer="partner@lawfirm.test", attendees=[att("karl@exempel.se", is_self=True)])
    assert rules.skip_reason(ev, _classify(ev), window=WINDOW) == SkipReason.EXCLUDED


def test_skip_reason_without_exclusions_is_unchanged():
    ev = event(attendees=[att("ceo@client.test")])
    assert rules.skip_reason(ev, classify(ev), window=WINDOW) is None


def test_excluded_skip_reason_has_a_label():
    assert "exclusion list" in str(rules.SKIP_LABELS[SkipReason.EXCLUDED])


def test_hide_excluded_organizer():
    ev = event(organizer="partner@lawfirm.test", attendees=[att("kund@acme.test")])
    values = {"invited_by_email": "partner@lawfirm.test", "invited_by_name": "P", "title": "x"}
    hidden = planning.hide_excluded_organizer(dict(values), _classify(ev))
    assert hidden == {"invited_by_email": "", "invited_by_name": "", "title": "x"}
    other = event(organizer="kund@acme.test", attendees=[att("partner@lawfirm.test")])
    assert planning.hide_excluded_organizer(dict(values), _classify(other)) == values
