"""The starlette app: /graphql (+ offline GraphiQL), /healthz, /readyz, /metrics."""

from __future__ import annotations

import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from typing import Any

import anyio
import anyio.to_thread
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.websockets import WebSocket
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult

from newsearch.schema.api import make_schema
from newsearch.schema.assets import assets_app
from newsearch.schema.context import Context, Services
from newsearch.schema.examples import EXAMPLE_QUERY, EXAMPLE_VARIABLES
from newsearch.schema.graphiql import OfflineGraphQL
from newsearch.schema.middleware import BodyLimit, Metrics, ReadAuth, RequestContext, request_id_var
from newsearch.schema.offload import (
    GZIP_LEVEL,
    GZIP_MINIMUM,
    EncodedResponse,
    PreparedJSON,
    PreparedResult,
    ThreadEncodedJSON,
    execute_off_loop,
    prepare,
)
from newsearch.schema.settings import Settings
from newsearch.schema.writes import Writes
from newsearch.search.analysis import warm_up
from newsearch.search.engine import Engine
from newsearch.search.storage.layout import IndexNotFound

log = logging.getLogger("newsearch.server")


class NewsGraphQL(OfflineGraphQL):
    """strawberry's ASGI view with our per-request context, run off the event loop."""

    services: Services

    async def execute_single(self, *args: Any, **kwargs: Any) -> ExecutionResult:
        """strawberry's execution of one operation and the encoding of its answer, in a worker
        thread (schema/offload.py)."""
        context = kwargs["context"]
        request = kwargs["request"]
        gzip = "gzip" in request.headers.get("accept-encoding", "")  # as GZipMiddleware reads it
        execute = super().execute_single
        return await execute_off_loop(
            lambda: execute(*args, **kwargs), context, lambda result: prepare(result, gzip)
        )

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        """The response dict, made (with its bytes) by ``execute_single`` where it could be."""
        if isinstance(result, PreparedResult) and result.response is not None:
            return result.response  # type: ignore[return-value]
        return await super().process_result(request, result)

    def create_response(
        self,
        response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
        sub_response: Response,
    ) -> Response:
        """The answer: sent as prepared, else (a batch) encoded in a worker thread, in chunks."""
        response: Response
        if isinstance(response_data, EncodedResponse):
            response = PreparedJSON(response_data, sub_response.status_code or 200)
        else:
            response = ThreadEncodedJSON(response_data, sub_response.status_code or 200)
        response.headers.raw.extend(sub_response.headers.raw)
        response.background = sub_response.background
        return response

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Any:
        return Context(
            services=self.services,
            request_id=request_id_var.get(),
            authorization=request.headers.get("authorization"),
            deadline=anyio.current_time() + self.services.settings.request_timeout,
        )


def create_app(settings: Settings) -> Starlette:
    """The ASGI app for ``settings`` (the index is opened lazily; /readyz tells when it is)."""
    metrics = Metrics()
    engine = Engine(
        settings.index_dir, check_interval=settings.check_interval, preload=settings.preload
    )
    services = Services(
        settings=settings,
        engine=engine,
        writes=Writes(settings.index_dir, settings.sources),
        limiter=anyio.CapacityLimiter(settings.search_threads),
    )
    graphql = NewsGraphQL(
        make_schema(settings),
        assets_dir=settings.assets_dir,
        assets_prefix="/_graphiql",
        default_query=EXAMPLE_QUERY,
        default_variables=EXAMPLE_VARIABLES,
    )
    graphql.services = services

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "alive"})

    async def readyz(request: Request) -> Response:
        try:
            gen = await anyio.to_thread.run_sync(engine.reader.generation, limiter=services.limiter)
        except IndexNotFound as exc:
            return JSONResponse({"ready": False, "reason": str(exc)}, status_code=503)
        except Exception as exc:
            reason = engine.reader.last_error or f"index cannot be opened: {exc}"
            return JSONResponse({"ready": False, "reason": reason}, status_code=503)
        if engine.reader.last_error:
            return JSONResponse(
                {"ready": False, "reason": engine.reader.last_error, "serving": gen.name},
                status_code=503,
            )
        return JSONResponse({"ready": True, "generation": gen.name, "documents": gen.documents})

    async def metrics_endpoint(request: Request) -> Response:
        current = engine.reader.opened
        if current is not None:
            metrics.documents.set(current.documents)
            metrics.generation.set(int(current.name[1:]))
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    async def home(request: Request) -> Response:
        return RedirectResponse("/graphql")

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await anyio.to_thread.run_sync(warm_up)  # before the first request, not during it
        # What start-up made (modules, schema, analyzers) lives as long as the server.  Out
        # of the collector's sight, a full collection, which holds the GIL and so the event
        # loop, does not walk them.  The index is opened afterwards: a replaced generation
        # must stay collectable.
        gc.collect()
        gc.freeze()
        try:
            gen = await anyio.to_thread.run_sync(engine.reader.generation)
            log.info("serving generation %s (%d documents)", gen.name, gen.documents)
            # This frame lives as long as the server: holding ``gen`` here would keep the first
            # generation (its memory and open files, even once pruned) after every rebuild.
            del gen
        except Exception as exc:  # the server still starts; /readyz reports why
            log.warning("index not ready: %s", exc)
        yield

    routes: list[BaseRoute] = [
        Route("/", home),
        Route("/graphql", graphql, methods=["GET", "POST"]),
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/metrics", metrics_endpoint),
        Mount("/_graphiql", app=assets_app(settings.assets_dir)),
    ]
    middleware = [
        Middleware(RequestContext, metrics=metrics),
        Middleware(BodyLimit, limit=settings.max_body_bytes),
        # GraphQL answers arrive compressed where the client accepts it (schema/offload.py),
        # with the same settings as here.
        Middleware(GZipMiddleware, minimum_size=GZIP_MINIMUM, compresslevel=GZIP_LEVEL),
        Middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["authorization", "content-type", "x-request-id"],
        ),
        Middleware(
            ReadAuth,
            tokens=tuple(
                t for t in (settings.read_token, settings.write_token) if t and settings.read_token
            ),
        ),
    ]
    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
    app.state.services = services
    app.state.metrics = metrics
    return app


def app_from_env() -> Starlette:
    """App factory for uvicorn (``--factory``), configured by NEWSEARCH_* variables.

    Used by ``newsearch serve`` so that several worker processes get one configuration.
    """
    import json
    import os
    from pathlib import Path

    config = json.loads(os.environ.get("NEWSEARCH_SERVE_CONFIG", "{}"))
    index_dir = Path(config.pop("index_dir", os.environ.get("NEWSEARCH_INDEX", "var/index")))
    config["sources"] = tuple(Path(p) for p in config.get("sources", ()))
    config["cors_origins"] = tuple(config.get("cors_origins", ()))
    if "assets_dir" in config:
        config["assets_dir"] = Path(config["assets_dir"])
    return create_app(Settings.from_env(index_dir, **config))
