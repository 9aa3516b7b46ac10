"""`setup_studio(app)`: the studio's pages and API on the server (see docs/studio.md)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web

from vrculture.server import appkeys
from vrculture.server.login_limits import FailedLogins
from vrculture.server.studio import api, objects, pages, smart, tours
from vrculture.server.studio.audit import record_in
from vrculture.server.studio.auth import STATE, STUDIO_STORE, StudioState, authorize
from vrculture.server.studio.exhibitions import studio_root
from vrculture.server.studio.plan import add_plan_routes
from vrculture.server.studio.records import records_for
from vrculture.server.studio.sessions import SessionRules
from vrculture.server.studio.uploads import setup_studio_uploads


def setup_studio(app: web.Application, *, rules: SessionRules | None = None,
                 monotonic: Callable[[], float] | None = None) -> None:
    """Add the studio to `app` (after its CONFIG, FEED_STORE and CLOCK are set). `monotonic`
    paces the sign-in limits (default: the app's CLOCK, as sessions and the audit log)."""
    pace = monotonic or app[appkeys.CLOCK]
    app[STATE] = StudioState(
        root=studio_root(app[appkeys.CONFIG].data_dir),
        rules=rules or SessionRules(),
        # An address may guess 10 times, then once a minute; an account (from any number of
        # addresses) 20 times, then once a minute: slow enough that a password cannot be
        # guessed, fast enough that its curator is never locked out for long.
        by_address=FailedLogins(burst=10, rate=1 / 60, clock=pace),
        by_account=FailedLogins(burst=20, rate=1 / 60, clock=pace),
    )

    # Beside the feeds: in their PostgreSQL when they are there, so that every machine
    # behind a load balancer knows every curator and session.
    app[STUDIO_STORE] = records_for(app[appkeys.FEED_STORE], app[appkeys.CONFIG])

    async def tables(app: web.Application) -> None:
        await app[STUDIO_STORE].prepare()

    async def close(app: web.Application) -> None:
        await app[STUDIO_STORE].close()  # closes only a store opened for the studio alone

    app.on_startup.append(tables)
    app.on_cleanup.append(close)
    router = app.router
    router.add_get("/studio", pages.studio_root, name="studio_root")
    router.add_get("/studio/", pages.home_page, name="studio_home")
    router.add_get("/studio/sign-in", pages.sign_in_page, name="studio_sign_in")
    router.add_get("/studio/exhibitions/{exhibition}", pages.exhibition_page,
                   name="studio_exhibition_page")
    router.add_get("/studio/exhibitions/{exhibition}/objects/{object}", pages.object_page,
                   name="studio_object_page")
    router.add_post("/studio/api/session", api.sign_in, name="studio_sign_in_api")
    router.add_get("/studio/api/session", api.current_session, name="studio_session")
    router.add_delete("/studio/api/session", api.sign_out, name="studio_sign_out")
    router.add_post("/studio/api/session/password", api.change_password,
                    name="studio_password")
    router.add_get("/studio/api/exhibitions", api.list_exhibitions,
                   name="studio_exhibitions")
    router.add_post("/studio/api/exhibitions", api.create_exhibition,
                    name="studio_create_exhibition")
    router.add_get("/studio/api/exhibitions/{exhibition}", api.get_exhibition,
                   name="studio_exhibition")
    router.add_patch("/studio/api/exhibitions/{exhibition}", api.edit_exhibition,
                     name="studio_edit_exhibition")
    router.add_patch("/studio/api/exhibitions/{exhibition}/objects/{object}",
                     api.edit_object, name="studio_edit_object")
    router.add_get("/studio/api/exhibitions/{exhibition}/objects/{object}", objects.get_object,
                   name="studio_object")
    router.add_patch("/studio/api/exhibitions/{exhibition}/objects/{object}/geometry",
                     objects.edit_geometry, name="studio_object_geometry")
    router.add_patch("/studio/api/exhibitions/{exhibition}/objects/{object}/presentation",
                     objects.edit_presentation, name="studio_object_presentation")
    router.add_put("/studio/api/exhibitions/{exhibition}/objects/{object}/annotations",
                   objects.put_annotations, name="studio_object_annotations")
    router.add_get("/studio/api/exhibitions/{exhibition}/objects/{object}/preview",
                   objects.get_preview, name="studio_object_preview")
    router.add_get("/studio/api/exhibitions/{exhibition}/members", api.list_members,
                   name="studio_members")
    router.add_post("/studio/api/exhibitions/{exhibition}/members", api.add_member,
                    name="studio_add_member")
    router.add_get("/studio/api/audit", api.audit_log, name="studio_audit")
    router.add_post("/studio/api/exhibitions/{exhibition}/publish", api.publish_exhibition,
                    name="studio_publish")
    router.add_post("/studio/api/exhibitions/{exhibition}/rollback",
                    api.roll_back_exhibition, name="studio_rollback")
    router.add_get("/studio/api/exhibitions/{exhibition}/publications",
                   api.list_publications, name="studio_publications")
    tours.add_routes(router)
    smart.add_routes(router)
    add_plan_routes(router)  # the floor plan and the private preview (plan.py)

    async def audit_upload(curator: str, exhibition_id: str, action: str,
                           detail: dict[str, Any]) -> None:
        await record_in(app, curator, exhibition_id, action, detail)

    setup_studio_uploads(app, authorize=authorize, on_change=audit_upload)


__all__ = ["StudioState", "setup_studio"]
