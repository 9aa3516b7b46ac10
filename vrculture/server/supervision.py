"""Background tasks that are never silently gone.

An exception that ends an asyncio task is only stored on it: the rooms' flush loop once died
on one bad message and every visitor's messages then waited for the next tick, with nothing
in the log. Every long-lived task runs under `supervise`: a failure is logged with its
traceback and the task's body started again after a delay that doubles (up to a cap) while it
keeps failing, and starts small again once it has run well for a while. One-shot tasks
(publishing one message, closing one socket) are not restarted, but `report_failure` logs how
they ended.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

FIRST_DELAY = 0.1  # seconds before the first restart
MAX_DELAY = 30.0
HEALTHY_AFTER = 60.0  # a body that ran this long before failing starts over at FIRST_DELAY


async def supervise(
    name: str,
    body: Callable[[], Awaitable[None]],
    *,
    forever: bool = True,
    first_delay: float = FIRST_DELAY,
    max_delay: float = MAX_DELAY,
) -> None:
    """Run `body()` until it is cancelled; restart it when it raises. `forever=False`: a body
    that returns is done (a job that may fail and is worth retrying); `forever=True`: returning
    is a bug too, logged and restarted like a failure."""
    loop = asyncio.get_running_loop()
    delay = first_delay
    while True:
        started = loop.time()
        error: Exception | None = None
        try:
            await body()
        except Exception as caught:  # CancelledError is not an Exception: cancelling stops it
            error = caught
        else:
            if not forever:
                return
        if loop.time() - started >= HEALTHY_AFTER:
            delay = first_delay
        what = "failed" if error else "returned although it should run until shutdown"
        log.error("background task %s %s; restarting it in %g s", name, what, delay,
                  exc_info=error)
        del error  # the traceback holds the body's frames: do not keep them while sleeping
        await asyncio.sleep(delay)
        delay = min(delay * 2, max_delay)


def start_supervised(
    name: str,
    body: Callable[[], Awaitable[None]],
    *,
    forever: bool = True,
    first_delay: float = FIRST_DELAY,
) -> asyncio.Task[None]:
    """`supervise(name, body, ...)` as a task of the running loop, named for debugging."""
    return asyncio.get_running_loop().create_task(
        supervise(name, body, forever=forever, first_delay=first_delay), name=name
    )


def report_failure(task: asyncio.Task[object]) -> None:
    """Done callback for one-shot tasks: log the exception that ended the task, if any."""
    if task.cancelled():
        return
    error = task.exception()
    if error is not None:
        log.error("background task %s failed", task.get_name(), exc_info=error)
