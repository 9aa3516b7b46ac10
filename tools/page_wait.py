"""Waiting in a page on a JavaScript expression, as Playwright's wait_for_function does, for
pages whose Content-Security-Policy refuses eval (the viewer's): Playwright turns the expression
into code with `globalThis.eval` inside the page. Used by the tests (tests/e2e/conftest.py) and
by the benchmarks that drive the viewer."""

from __future__ import annotations

import time


def _poll_source(expression: str) -> str:
    # The expression is spliced into the source on its own lines (a trailing comment in it
    # cannot swallow the rest); a function is called with `arg`, as Playwright does.
    return ("async ([arg, timeoutMs, pollMs]) => {\n"
            "  const deadline = performance.now() + timeoutMs;\n"
            "  for (;;) {\n"
            f"    let value = (\n{expression}\n);\n"
            "    if (typeof value === 'function') value = value(arg);\n"
            "    value = await value;\n"
            "    if (value) return value;\n"
            "    if (performance.now() > deadline) throw new Error('vrculture-wait-timeout');\n"
            "    await new Promise((resolve) => setTimeout(resolve, pollMs));\n"
            "  }\n"
            "}")


def wait_for(target, expression: str, *, timeout_ms: float, arg: object = None,
             poll_ms: int = 16):
    """Playwright's wait_for_function without its eval: Playwright turns the expression into
    code with `globalThis.eval` inside the page, which the viewer pages' policy refuses (no
    'unsafe-eval', vrculture/server/security.py). Here the expression is part of a function
    that DevTools compiles (the page's policy does not apply to it) and that polls it in the
    page until it is truthy. `target` is a Page or a Frame; returns the value's handle. A
    navigation while waiting is waited out, as Playwright does."""
    from playwright.sync_api import Error, TimeoutError

    give_up = time.monotonic() + timeout_ms / 1000  # a timeout, not a test of time
    source = _poll_source(expression)
    while True:
        left_ms = max(1.0, (give_up - time.monotonic()) * 1000)
        try:
            return target.evaluate_handle(source, [arg, left_ms, poll_ms])
        except Error as error:
            if "vrculture-wait-timeout" in error.message:
                raise TimeoutError(f"{timeout_ms:.0f} ms waiting for: {expression}") from None
            navigated = ("Execution context was destroyed" in error.message
                         or "Cannot find context" in error.message)
            if not navigated or time.monotonic() > give_up:
                raise
