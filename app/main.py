"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI

from app import __version__
from app.activities.routes import router as activities_router
from app.auth.dependencies import require_method_scopes, require_scopes
from app.auth.routes import router as auth_router
from app.database import make_engine, make_sessionmaker
from app.evidence.routes import router as evidence_router
from app.frameworks.routes import router as frameworks_router
from app.keys.routes import router as keys_router
from app.logs import configure_logging
from app.lti.routes import router as lti_router
from app.mastery.calculator_routes import router as mastery_calculator_router
from app.mastery.routes import router as mastery_router
from app.operations import install_operations
from app.people.routes import router as people_router
from app.platforms.routes import router as platforms_router
from app.problems import install_problem_handlers
from app.settings import Settings, get_settings


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the service from `settings` (the environment when none are given)."""
    settings = settings or get_settings()
    configure_logging(level=settings.log_level, json=settings.log_json)
    engine = make_engine(settings.database_url)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        engine.dispose()

    app = FastAPI(
        title="Standards Bridge",
        version=__version__,
        summary="Align LMS activities to CASE competencies and turn evidence "
        "into mastery.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = make_sessionmaker(engine)
    install_problem_handlers(app)

    install_operations(app)

    app.include_router(keys_router)
    app.include_router(auth_router)
    app.include_router(lti_router)
    _include_api_routers(app)
    return app


def _include_api_routers(app: FastAPI) -> None:
    """Every /api router behind a bearer token, with the scopes its data needs.

    Guarding here rather than in each route keeps one place to read who may
    call what.
    """

    def guarded(read: str, write: str) -> list:  # type: ignore[type-arg]
        return [Depends(require_method_scopes(read=read, write=write))]

    app.include_router(
        platforms_router, dependencies=guarded("platforms:admin", "platforms:admin")
    )
    app.include_router(
        frameworks_router, dependencies=guarded("frameworks:read", "frameworks:write")
    )
    app.include_router(
        activities_router, dependencies=guarded("evidence:read", "evidence:write")
    )
    app.include_router(
        people_router, dependencies=guarded("people:read", "people:write")
    )
    app.include_router(
        evidence_router, dependencies=guarded("evidence:read", "evidence:write")
    )
    app.include_router(
        mastery_router, dependencies=guarded("people:read", "people:write")
    )
    app.include_router(
        mastery_calculator_router,
        dependencies=[Depends(require_scopes("reports:read"))],
    )
