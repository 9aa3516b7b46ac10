"""The studio's e2e sign-in, once for every studio test: a curator account (optionally a member
of an exhibition) written into the running server's store, and a page signed in as them
through the real sign-in form (name, password, Enter)."""

from __future__ import annotations

from typing import Any

from vrculture.server.storage import Store
from vrculture.server.studio import accounts, members
from vrculture.server.studio.schema import create_tables


def add_curator(server: Any, name: str, password: str, *, member_of: str | None = None
                ) -> str:
    """Create the curator (and their membership of `member_of`) in the server's store."""
    store = Store.open(server.data_dir)
    try:
        create_tables(store.conn)
        accounts.add_curator(store, name, accounts.hash_password(password), 0.0)
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
