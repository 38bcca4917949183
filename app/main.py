"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI

from app import __version__
from app.activities.routes import router as activities_router
from app.auth.dependencies import require_method_scopes, require_scopes
from app.auth.routes import router as auth_router
from app.case_publish.routes import api_router as case_publish_api_router
from app.case_publish.routes import router as case_publish_router
from app.crosswalks.routes import router as crosswalks_router
from app.database import make_engine, make_sessionmaker
from app.evidence.routes import router as evidence_router
from app.exports.routes import router as exports_router
from app.frameworks.routes import router as frameworks_router
from app.keys.encryption import use_secret_key
from app.keys.routes import router as keys_router
from app.lms_services.routes import contexts_router as lms_contexts_router
from app.lms_services.routes import router as lms_router
from app.logs import configure_logging
from app.lti.routes import router as lti_router
from app.mastery.calculator_routes import router as mastery_calculator_router
from app.mastery.routes import policy_router as mastery_policy_router
from app.mastery.routes import router as mastery_router
from app.operations import install_operations
from app.people.routes import router as people_router
from app.platforms.routes import router as platforms_router
from app.problems import install_problem_handlers
from app.registration.routes import router as registration_router
from app.reports.routes import router as reports_router
from app.settings import Settings, get_settings
from app.sources.routes import router as sources_router
from app.xapi.routes import router as xapi_router


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
    use_secret_key(settings.secret_key)
    app.state.engine = engine
    app.state.sessionmaker = make_sessionmaker(engine)
    install_problem_handlers(app)

    install_operations(app)

    app.include_router(keys_router)
    app.include_router(registration_router)
    app.include_router(auth_router)
    app.include_router(lti_router)
    app.include_router(case_publish_router)
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
        crosswalks_router, dependencies=guarded("frameworks:read", "frameworks:write")
    )
    app.include_router(
        case_publish_api_router,
        dependencies=guarded("frameworks:read", "frameworks:write"),
    )
    app.include_router(
        sources_router, dependencies=guarded("frameworks:read", "frameworks:write")
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
    # Not under /api (xAPI senders expect an LRS-style path) yet guarded alike.
    app.include_router(
        xapi_router, dependencies=[Depends(require_scopes("evidence:write"))]
    )
    app.include_router(
        mastery_router, dependencies=guarded("people:read", "people:write")
    )
    app.include_router(
        mastery_policy_router,
        dependencies=guarded("frameworks:read", "frameworks:write"),
    )
    app.include_router(
        lms_router, dependencies=guarded("platforms:admin", "platforms:admin")
    )
    app.include_router(
        lms_contexts_router, dependencies=guarded("people:read", "people:write")
    )
    app.include_router(
        reports_router, dependencies=[Depends(require_scopes("reports:read"))]
    )
    app.include_router(
        exports_router,
        dependencies=[Depends(require_scopes("people:read", "reports:read"))],
    )
    app.include_router(
        mastery_calculator_router,
        dependencies=[Depends(require_scopes("reports:read"))],
    )
