"""The studio's e2e sign-in, once for every studio test: a curator account (optionally a member
of an exhibition) written into the running server's store, and a page signed in as them
through the real sign-in form (name, password, Enter).

An account is made as `vrculture curators add` makes it (a one-time password) and then, unless
`one_time`, its password replaced once, as its curator does at the first sign-in (stored as the
password route stores it: the tests then sign in with `password` as often as they need). The
replacement through the browser's form is pinned by tests/e2e/test_studio.py."""

from __future__ import annotations

from typing import Any

from vrculture.server.storage import Store
from vrculture.server.studio import accounts, members
from vrculture.server.studio.schema import create_tables


def add_curator(server: Any, name: str, password: str, *, member_of: str | None = None,
                one_time: bool = False) -> str:
    """Create the curator (and their membership of `member_of`) in the server's store; with
    `one_time`, still on the printed one-time password `password`."""
    store = Store.open(server.data_dir, clock=server.clock)  # the server's own
    try:
        create_tables(store.conn)
        password_hash = accounts.hash_password(password)
        accounts.add_curator(store, name, password_hash, 0.0)
        if not one_time:
            accounts.set_password(store, name, password_hash, 0.0, one_time=False)
        if member_of is not None:
            members.add_member(store, member_of, name, name, 0.0)
    finally:
        store.close()
    return name


def signed_in_page(server: Any, new_page: Any, name: str, password: str, *,
                   viewport: tuple[int, int] = (800, 500)) -> Any:
    """A new page signed in to the studio as `name`, left on the studio's front page."""
    page = new_page(server.url("/studio/sign-in"), viewport=viewport)
    sign_in(page, name, password)
    return page


def sign_in(page: Any, name: str, password: str) -> None:
    """Fill the sign-in form the page shows and submit it from the keyboard."""
    page.get_by_label("Name").fill(name)
    page.get_by_label("Password").fill(password)
    page.get_by_label("Password").press("Enter")  # the keyboard submits the form
    page.wait_for_url("**/studio/")
