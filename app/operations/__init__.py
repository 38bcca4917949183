"""Running the service: health and readiness, metrics, request ids, start-up checks.

`install_operations(app)` wires all of it into an app whose `state` already
holds `settings` and `engine`.
"""

from fastapi import FastAPI

from app.operations.metrics import ServiceMetrics
from app.operations.middleware import RequestTelemetryMiddleware
from app.operations.readiness import ReadinessProbe
from app.operations.routes import router


def install_operations(app: FastAPI) -> None:
    metrics = ServiceMetrics()
    app.state.metrics = metrics
    app.state.readiness = ReadinessProbe(
        engine=app.state.engine,
        database_url=app.state.settings.database_url,
        cache_seconds=app.state.settings.readiness_cache_seconds,
    )
    app.add_middleware(RequestTelemetryMiddleware, metrics=metrics)
    app.include_router(router)
