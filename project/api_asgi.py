"""The API's HTTP requests under ASGI: the whole request in one hop to a
thread, on threads kept from one request to the next.

Django's ASGIHandler runs a sync view behind an async middleware chain: every
middleware written for both modes (all of ours, Django's, axes',
servestatic's) hops to the request's thread and back for its
`process_request` and again for its `process_response`, about twenty hops a
request, and each request gets a new thread, and another one to join it
when it ends (asgiref's ThreadSensitiveContext). py-spy of `GET /api/rooms/`
under load (issue 23, docs/benchmarks.md): about half of a worker's CPU.

`SyncChainHandler` is Django's ASGIHandler with MIDDLEWARE built as Django
builds it for WSGI and its test client (sync), called once per request in
the request's thread: the same middleware in the same order, so the same
headers (security, CSP, request id), sessions, CSRF, language and auth. One
is left out: servestatic's, which answers only under STATIC_URL (never an
`/api/` path) and can only run async (in a sync chain it would cost two hops
more, to the event loop and back). The body is still read, and the response still
sent, by Django's ASGI code. The request's thread comes from a pool of
single-thread executors, given to asgiref as the request's
thread-sensitive executor: every sync call of one request still runs on one
thread (its database connection), as Django requires, and no thread is
started per request.

project/asgi.py sends `/api/` here. The pages stay on Django's own handler:
their static files and downloads are streamed responses, which a sync chain
would hand to the ASGI server as sync iterators (read whole, with a warning);
no API endpoint answers with one.
"""

import threading
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, MiddlewareNotUsed
from django.core.handlers.asgi import ASGIHandler
from django.core.handlers.exception import convert_exception_to_response
from django.http import FileResponse
from django.utils.module_loading import import_string

# Middleware that never acts on an /api/ path.
NOT_FOR_THE_API = {"servestatic.middleware.ServeStaticMiddleware"}

# Idle request threads kept for the next requests; more are ended when they
# come back (a burst beyond this many requests at once starts threads again).
KEEP_IDLE = 64


class RequestThreads:
    """Single-thread executors, one lent to each request in flight."""

    def __init__(self, keep_idle: int = KEEP_IDLE):
        self.keep_idle = keep_idle
        self._idle: list[ThreadPoolExecutor] = []
        self._lock = threading.Lock()

    def take(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        return ThreadPoolExecutor(max_workers=1, thread_name_prefix="request")

    def give_back(self, executor: ThreadPoolExecutor) -> None:
        with self._lock:
            if len(self._idle) < self.keep_idle:
                self._idle.append(executor)
                return
        executor.shutdown(wait=False)  # its thread ends after any work it still has


class SyncChainHandler(ASGIHandler):
    """Django's ASGIHandler with the sync middleware chain, run in one hop."""

    def __init__(self, threads: RequestThreads | None = None):
        # Not ASGIHandler.__init__: it builds the async chain.
        self.load_sync_middleware([m for m in settings.MIDDLEWARE if m not in NOT_FOR_THE_API])
        self.threads = threads or RequestThreads()

    def load_sync_middleware(self, paths: list[str]) -> None:
        """BaseHandler.load_middleware(is_async=False) for `paths` (not
        settings.MIDDLEWARE), each of them sync-capable: a middleware that can
        only run async is refused at startup rather than adapted."""
        self._view_middleware = []
        self._template_response_middleware = []
        self._exception_middleware = []
        handler = convert_exception_to_response(self._get_response)
        for path in reversed(paths):
            middleware = import_string(path)
            if not getattr(middleware, "sync_capable", True):
                raise ImproperlyConfigured(
                    f"{path} cannot run sync: list it in project.api_asgi.NOT_FOR_THE_API "
                    "if it never acts on /api/, or serve the API with Django's ASGIHandler."
                )
            try:
                instance = middleware(handler)
            except MiddlewareNotUsed:
                continue
            if instance is None:
                raise ImproperlyConfigured(f"Middleware factory {path} returned None.")
            if hasattr(instance, "process_view"):
                self._view_middleware.insert(0, instance.process_view)
            if hasattr(instance, "process_template_response"):
                self._template_response_middleware.append(instance.process_template_response)
            if hasattr(instance, "process_exception"):
                self._exception_middleware.append(instance.process_exception)
            handler = convert_exception_to_response(instance)
        self._middleware_chain = handler

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        executor = self.threads.take()
        try:
            # The request's thread-sensitive calls (the chain, the signals,
            # closing the response) all go to this executor's one thread.
            async with ThreadSensitiveContext(executor=executor):
                await self.handle(scope, receive, send)
        finally:
            self.threads.give_back(executor)

    async def run_get_response(self, request):
        response = await sync_to_async(self.get_response, thread_sensitive=True)(request)
        response._handler_class = self.__class__
        if isinstance(response, FileResponse):
            response.block_size = self.chunk_size
        return response
