"""Failed curator logins are limited per client address: 429 with Retry-After."""

from __future__ import annotations

from vrculture.server.admin import FAILED_LOGINS
from vrculture.server.app import create_app
from vrculture.server.login_limits import FailedLogins
from vrculture.server.storage import Store

from .test_admin import auth


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_guessing_the_curator_token_is_throttled(aiohttp_client, config, clock):
    store = Store.open(config.data_dir, clock=clock)
    curator = store.create_curator_token()
    store.close()
    app = create_app(config, watch_interval=3600, clock=clock)  # the limiter's clock too
    app[FAILED_LOGINS] = FailedLogins(burst=3, rate=0.1, clock=clock)
    client = await aiohttp_client(app)

    async def guess(token: str) -> int:
        response = await client.post("/api/admin/feeds", json={"feed_id": "x"},
                                     headers=auth(token))
        return response.status

    assert [await guess("wrong") for _ in range(3)] == [401, 401, 401]
    refused = await client.post("/api/admin/feeds", json={"feed_id": "x"}, headers=auth(curator))
    assert refused.status == 429  # even the right token: the address is locked out for now
    assert refused.headers["Retry-After"] == "10"
    assert (await refused.json())["code"] == "too_many_attempts"
    clock.now += 10  # one more attempt earned
    assert await guess("wrong") == 401
    assert await guess("wrong") == 429
    clock.now += 10
    assert await guess(curator) == 201  # a correct token does not use up the bucket
    assert await guess(curator) == 409  # (the feed now exists) still not throttled


def test_the_limiter_forgets_recovered_clients_when_full():
    clock = Clock()
    limits = FailedLogins(burst=2, rate=1.0, clock=clock, max_clients=3)
    for client in ("a", "b", "c"):
        limits.failed(client)
    clock.now += 5  # all recovered
    limits.failed("d")
    assert set(limits._buckets) == {"d"}
    limits.failed("d")
    limits.failed("d")
    assert limits.retry_after("d") == 1 and limits.retry_after("e") is None
