"""The /metrics and /healthz server (aiohttp on the app's event loop): a module of its own so that
a run with `[metrics] listen` unset never imports aiohttp.web (~40 ms of every start)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bot.errors import WirewatchError
from bot.metrics import Metrics

log = logging.getLogger(__name__)


class MetricsServer:
    """aiohttp on the app's event loop: GET /metrics (Prometheus text) and GET /healthz."""

    def __init__(self, metrics: Metrics, healthz: Callable[[], tuple[bool, str]]):
        self.metrics, self.healthz = metrics, healthz
        self._runner: web.AppRunner | None = None

    async def start(self, host: str, port: int) -> None:
        app = web.Application()
        app.router.add_get("/metrics", self._metrics)
        app.router.add_get("/healthz", self._health)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        log.info("metrics on http://%s:%d/metrics and /healthz", host, port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _metrics(self, _request: web.Request) -> web.Response:
        body = generate_latest(self.metrics.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def _health(self, _request: web.Request) -> web.Response:
        ok, reason = self.healthz()
        return web.Response(status=200 if ok else 503, text=reason + "\n")



async def serve_metrics(metrics: Metrics, health: Callable[[], tuple[bool, str]], listen: tuple[str, int]) -> MetricsServer:
    """The /metrics and /healthz server, listening; a port that cannot be bound says which."""
    server = MetricsServer(metrics, health)
    try:
        await server.start(*listen)
    except OSError as exc:
        raise WirewatchError(f"metrics.listen {listen[0]}:{listen[1]}: {exc.strerror}") from None
    return server
