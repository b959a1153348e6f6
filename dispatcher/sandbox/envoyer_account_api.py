"""Envoyer SMS Pro account-level functions: SMS restant, liste des comptes, STOP SMS.

The STOP list is per account (revision 2.7.0, "Gestion du multicompte, Gestion du STOP
SMS") and lives in the account's :class:`~dispatcher.sandbox.envoyer_accounts.Session`.
Each STOP section documents its own parameter name, and the sandbox accepts exactly those:

- ``/api/stopsms/activate``: the table says ``phonenumber`` (printed "phonenum ber"), the
  example ``phonenum``: both are accepted, ``phonenumber`` first;
- ``/api/stopsms/deactivate``: ``phonenumber`` (table and example agree);
- ``/api/stopsms/check``: ``phonenumber`` (the table and the example both print
  "phonenum ber", a line-wrapped ``phonenumber``).

Errors are the documented error-3 details: "Phonenumber is missing" (absent), "Phonenumber
cannot be null" (empty). A number not "au format international" gets the send function's
"Wrong numbers : <number>". "You do not send SMS to the <number>" has no documented
function; the sandbox places it on activation, for a number the account never sent to.
"""

from __future__ import annotations

from starlette.responses import Response

from dispatcher.sandbox.envoyer_accounts import Accounts, Session
from dispatcher.sandbox.envoyer_config import INTERNATIONAL
from dispatcher.sandbox.envoyer_params import Call
from dispatcher.sandbox.envoyer_xml import bad, document, elements, success
from dispatcher.sandbox.store import Store

PROVIDER = "envoyer"
ACTIVATE_NAMES = ("phonenumber", "phonenum")
OTHER_NAMES = ("phonenumber",)


def status(session: Session) -> Response:
    """Section "FONCTION SMS RESTANT": remaining SMS and the API request limit."""
    limit = session.profile.api_request_limit
    return success("account", [("sms_remaining", session.remaining), ("api_request_limit", limit)])


def all_accounts(accounts: Accounts, session: Session) -> Response:
    """Section "FONCTION LISTE DES COMPTES": the login's accounts, in config order."""
    blocks = "".join(
        "    <account>\n"
        + elements(
            3,
            [
                ("account_id", s.profile.account_id),
                ("account_name", s.profile.account_name),
                ("sms_remaining", s.remaining),
                ("api_request_limit", s.profile.api_request_limit),
            ],
        )
        + "    </account>\n"
        for s in accounts.siblings(session)
    )
    return document(f"  <status>success</status>\n  <accounts>\n{blocks}  </accounts>\n")


def phone(call: Call, names: tuple[str, ...]) -> str:
    """The number, from the first of ``names`` present; raises the documented errors."""
    found = next((call.params[n] for n in names if n in call.params), None)
    if found is None:
        raise bad("Phonenumber is missing")
    number = found.strip()
    if not number:
        raise bad("Phonenumber cannot be null")
    if not INTERNATIONAL.fullmatch(number):
        raise bad(f"Wrong numbers : {number}")
    return number


def stop_check(call: Call, session: Session) -> Response:
    """``stop_sms_status_id`` 1 when the number is on the list, else 0."""
    number = phone(call, OTHER_NAMES)
    on_list = 1 if number in session.stop_list else 0
    return success("stopsms", [("phone_number", number), ("stop_sms_status_id", on_list)])


def stop_activate(store: Store, call: Call, session: Session) -> Response:
    """Put a number the account has sent to (in a message not cancelled) on its list; a
    number already on it succeeds again. Scans the account's messages: O(its recipients),
    acceptable for a rare call."""
    number = phone(call, ACTIVATE_NAMES)
    if number not in session.stop_list:
        sent = any(
            sub.has_number(number)
            for sub in store.newest_first(PROVIDER, session.key)
            if not sub.cancelled
        )
        if not sent:
            raise bad(f"You do not send SMS to the {number}")
    session.stop_list.add(number)
    return success("stopsms", [("phone_number", number)])


def stop_deactivate(call: Call, session: Session) -> Response:
    """Take a number off the list; a number that is not on it succeeds too."""
    number = phone(call, OTHER_NAMES)
    session.stop_list.discard(number)
    return success("stopsms", [("phone_number", number)])
