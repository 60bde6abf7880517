"""API calls of a session: URL building, retries, decoding, pages → one result."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx

from ..errors import (
    NetworkError,
    OrangeAPIError,
    OrangeNBError,
    aread_answer,
    correlator_of,
    read_answer,
    request_id_of,
)
from . import frames, paging
from .retry import RetryPolicy

if TYPE_CHECKING:
    import pandas as pd

    from .wiring import Wiring

log = logging.getLogger("orange_nb")

Headers = Mapping[str, str] | Sequence[tuple[str, str]] | None


@dataclass
class Fetched:
    """What one ``fetch`` brought back: the result, every response, and how long it took."""

    result: Any = None
    responses: list[httpx.Response] = field(default_factory=list)
    pages: int = 0
    rows: int | None = None
    elapsed: float = 0.0
    truncated: bool = False  # stopped at max_pages with more pages left
    more: bool = False  # not paginating, and the answer names a next page


def decode(response: httpx.Response) -> Any:
    """The body as JSON when it is JSON, else text (or bytes when it is binary)."""
    return decode_records(response)[0]


def decode_records(
    response: httpx.Response, records_path: str | None = None
) -> tuple[Any, frames.Columns | list[Any] | None]:
    """``(body, records)``: the body as :func:`decode` gives it and the records it holds.

    One decode serves both (see :func:`frames.read`): with the fast path, records come as
    columns and the body holds ``[]`` in their place.
    """
    ctype = response.headers.get("content-type", "").lower()
    body = response.content
    if "json" in ctype or (not ctype and body[:1] in (b"{", b"[")):
        if not body.strip():
            return None, None
        try:
            return frames.read(body, records_path)
        except OrangeNBError:  # RecordsPathError: the answer is fine, the path is not
            raise
        except (ValueError, RecursionError):  # RecursionError: nested deeper than Python goes
            raise OrangeAPIError(
                response.status_code,
                message="Malformed JSON",
                description="the body is not valid JSON (cut short?)",
                request_id=request_id_of(response.headers),
                url=str(response.request.url),
                method=response.request.method,
                advice="Try again; if it persists, the API is at fault.",
                correlator=correlator_of(response),
            ) from None
    if ctype.startswith("text/") or "xml" in ctype or "html" in ctype:
        return response.text, None
    return body, None


def _network_error(method: str, url: str, exc: httpx.TransportError) -> NetworkError:
    host = urlsplit(url).netloc
    if isinstance(exc, httpx.TimeoutException):
        what = f"{host} did not answer in time"
    elif isinstance(exc, httpx.ConnectError):
        what = f"could not connect to {host}"
    else:
        what = f"the connection to {host} broke before the answer was complete"
    path = urlsplit(url).path
    return NetworkError(f"{method} {path} failed: {what}. Check the network and try again.")


def new_correlator() -> str:
    """A random (version 4) UUID as text, at a fifth of ``str(uuid.uuid4())``'s cost: it is
    made for every call."""
    h = os.urandom(16).hex()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"


def with_correlator(headers: Headers) -> Headers:
    """``headers`` with a new ``x-correlator`` (CAMARA: every call carries one; its retries
    the same one; errors show it), unless the caller set one."""
    if headers is None:
        return {"x-correlator": new_correlator()}
    merged = httpx.Headers(headers)
    merged.setdefault("x-correlator", new_correlator())
    return merged


class _Tries:
    """One request's retry bookkeeping; :meth:`step` is shared by the sync and async loops."""

    def __init__(self, policy: RetryPolicy, method: str, url: str, base: str = "") -> None:
        self.policy, self.method, self.url = policy, method, url
        self.base = base  # api_url: errors name a URL under it by its path, as it was typed
        self.attempt, self.waited = 0, 0.0

    def step(
        self, response: httpx.Response | None = None, error: httpx.TransportError | None = None
    ) -> httpx.Response | float:
        """The response to return, or seconds to wait before trying again; raises on giving up."""
        if response is not None and response.is_success:
            return response
        if response is not None:
            delay = self.policy.delay_for_response(response, self.method, self.attempt, self.waited)
            if delay is None:
                raise OrangeAPIError.from_response(response, base=self.base)
            log.info(
                "HTTP %s on %s; retrying in %.1f s",
                response.status_code,
                urlsplit(self.url).path,
                delay,
            )
        else:
            assert error is not None
            delay = self.policy.delay_for_error(error, self.method, self.attempt, self.waited)
            if delay is None:
                raise _network_error(self.method, self.url, error) from None
        self.attempt += 1
        self.waited += delay
        return delay


def _unbind(response: httpx.Response) -> None:
    """Swap a read response's closed stream for its bytes, as httpx does for a request body.

    The client's stream points back at its response (to set ``elapsed`` on close): a cycle
    only the garbage collector frees, so a body let go would stay in memory until the next
    collection, beside the frame built from it (1M records: +93 MB at the peak).
    """
    response.stream = httpx.ByteStream(response.content)


class _Pages:
    """Collects pages of records; :meth:`add` says which URL comes next (shared sync/async)."""

    def __init__(
        self,
        records: str | None,
        paginate: bool,
        max_pages: int,
        limit: int | None,
        on_truncated: Callable[[int], None] | None,
        frame: str = "pandas",
        keep_responses: bool = True,
    ) -> None:
        self.records, self.paginate, self.frame = records, paginate, frames.check_kind(frame)
        # Without them (get), each page's body is let go once decoded: a long pull does not
        # hold every page's bytes until its frame is built.
        self.keep_responses = keep_responses
        self.max_pages, self.limit, self.on_truncated = max_pages, limit, on_truncated
        self.out = Fetched()
        self.rows = frames.Collector()
        self.as_is: Any = None
        self.is_records = False
        self.first_body: Any = None
        self.first_url = ""  # the first page's URL: offsets of the pages ahead build on it
        self.seen: set[str] = set()  # URLs of the pages fetched, to stop a cycle of next links
        self.cut_short = False  # pages fetched ahead stop at max_pages with more left
        self.started = time.perf_counter()

    def add(self, response: httpx.Response) -> str | None:
        out = self.out
        if self.keep_responses:
            out.responses.append(response)
        else:
            _unbind(response)
        out.pages += 1
        data, found = decode_records(response, self.records)
        if found is None:
            if out.pages == 1:  # not records: hand back the JSON (or text) as it came
                self.as_is = data
            return None  # a later page without records ends the pull
        self.is_records = True
        self.rows.add(found)
        if self.limit is not None and len(self.rows) >= self.limit:
            self.rows.truncate(self.limit)
            return None
        if not self.paginate:
            try:
                out.more = paging.next_link(response.headers, data, str(response.url)) is not None
            except OrangeNBError:  # a next page elsewhere: still more, never fetched
                out.more = True
            return None
        if out.pages == 1:
            self.first_body, self.first_url = data, str(response.url)
        following = paging.next_link(response.headers, data, str(response.url))
        self.seen.add(str(response.url))
        if following in self.seen:  # a next link back to a page already here: a cycle
            log.info("The next page of %s was fetched already; stopping.", response.url.path)
            return None
        if following is not None and out.pages >= self.max_pages:
            self._truncate()
            return None
        return following

    def _truncate(self) -> None:
        self.out.truncated = True
        if self.on_truncated is not None:
            self.on_truncated(self.max_pages)

    def ahead(self, offset_param: str) -> Iterator[str] | None:
        """URLs of the pages after the first, when its body says how many rows there are.

        Only for APIs that take an offset (``offset_param``); ``None`` when the first page
        gives no ``total``. Bounded by ``max_pages`` and ``limit`` like the sequential pull,
        before any URL is built: they come one by one, so the server's ``total`` sizes nothing.
        """
        body, page = self.first_body, len(self.rows)
        total = body.get("total") if isinstance(body, dict) else None
        if not isinstance(total, int) or isinstance(total, bool) or page == 0:
            return None
        first = self.first_url
        offsets = paging.offset_range(first, total, page, offset_param)[1:]
        if self.limit is not None:
            offsets = offsets[: max(0, -(-(self.limit - page) // page))]  # ceil: pages still needed
        # More pages than max_pages: said once they are all fetched, as an empty page
        # (a total that lied) may end the pull before.
        self.cut_short = len(offsets) > self.max_pages - 1
        offsets = offsets[: self.max_pages - 1]
        self.paginate = False  # the plan is fixed: the pages' own next links no longer count
        return (paging.offset_url(first, offset, page, offset_param) for offset in offsets)

    def finish(self) -> Fetched:
        out = self.out
        if not self.is_records:
            out.result = self.as_is
        else:
            out.result = self.rows.frame(self.frame)
            out.rows = len(self.rows)
        out.elapsed = time.perf_counter() - self.started
        return out


class CallsMixin:
    """``request``/``get`` and their async twins, for :class:`orange_nb.session.orange.Orange`."""

    if TYPE_CHECKING:
        # The host's one collaborator used here: endpoints, clients and retry policy.
        @property
        def wiring(self) -> Wiring: ...

    def url_for(self, path_or_url: str) -> str:
        """An absolute URL: relative paths are appended to ``api_url``'s own path."""
        if urlsplit(path_or_url).scheme in ("http", "https"):
            return path_or_url
        return self.wiring.endpoints.api_url.rstrip("/") + "/" + path_or_url.lstrip("/")

    def _prepare(
        self, method: str, path_or_url: str, send: dict[str, Any]
    ) -> tuple[_Tries, dict[str, Any]]:
        """The tries of one call (its URL and retry rule) and what to send (x-correlator in)."""
        if send.get("timeout") is None:
            send.pop("timeout", None)  # the client's own timeout applies
        send["headers"] = with_correlator(send.get("headers"))
        wiring = self.wiring
        tries = _Tries(
            wiring.retry, method.upper(), self.url_for(path_or_url), wiring.endpoints.api_url
        )
        return tries, send

    def request(
        self,
        method: str,
        path_or_url: str,
        *,
        params: Any = None,
        json: Any = None,
        data: Any = None,
        content: Any = None,
        headers: Headers = None,
        timeout: float | None = None,
    ) -> httpx.Response:
        """Send an authenticated request; throttling and transient failures are retried.

        Returns the ``httpx.Response``; raises ``OrangeAPIError`` for an error answer.
        """
        send = dict(params=params, json=json, data=data, content=content, headers=headers)
        return self._request_on(
            self.wiring.client, method, path_or_url, send | {"timeout": timeout}
        )

    def _request_on(
        self, client: httpx.Client, method: str, path_or_url: str, send: dict[str, Any]
    ) -> httpx.Response:
        tries, kwargs = self._prepare(method, path_or_url, send)
        pacer = self.wiring.pacer
        while True:
            ticket = pacer.wait()
            try:
                sent = client.send(
                    client.build_request(tries.method, tries.url, **kwargs), stream=True
                )
                answer = read_answer(sent)  # a bad gzip: NetworkError
                pacer.observe(answer, ticket)
                step = tries.step(response=answer)
            except httpx.TransportError as exc:
                step = tries.step(error=exc)
            if isinstance(step, httpx.Response):
                return step
            time.sleep(step)

    async def arequest(
        self,
        method: str,
        path_or_url: str,
        *,
        params: Any = None,
        json: Any = None,
        data: Any = None,
        content: Any = None,
        headers: Headers = None,
        timeout: float | None = None,
    ) -> httpx.Response:
        """:meth:`request` for asyncio: ``await orange.arequest("GET", "/…")``."""
        send = dict(params=params, json=json, data=data, content=content, headers=headers)
        tries, kwargs = self._prepare(method, path_or_url, send | {"timeout": timeout})
        client = self.wiring.aclient()
        pacer = self.wiring.pacer
        while True:
            ticket = await pacer.await_turn()
            try:
                sent = await client.send(
                    client.build_request(tries.method, tries.url, **kwargs), stream=True
                )
                answer = await aread_answer(sent)
                pacer.observe(answer, ticket)
                step = tries.step(response=answer)
            except httpx.TransportError as exc:
                step = tries.step(error=exc)
            if isinstance(step, httpx.Response):
                return step
            await asyncio.sleep(step)

    def fetch(
        self,
        path_or_url: str,
        params: Any = None,
        *,
        method: str = "GET",
        json: Any = None,
        data: Any = None,
        content: Any = None,
        paginate: bool = False,
        records: str | None = None,
        max_pages: int = 20,
        limit: int | None = None,
        headers: Headers = None,
        timeout: float | None = None,
        progress: bool = False,
        on_truncated: Callable[[int], None] | None = None,
        concurrency: int = 1,
        offset_param: str = "offset",
        frame: str = "pandas",
        keep_responses: bool = True,
    ) -> Fetched:
        """Send (GET by default), follow pages when asked, decode: the details behind :meth:`get`.

        The method and body go with the first request only; following pages are GETs. With
        ``concurrency > 1``, an API that takes an offset and gives a ``total`` has its pages
        after the first fetched ``concurrency`` at a time, in order, on the same connections.
        ``frame`` is ``"pandas"`` or ``"polars"`` (the ``polars`` extra). With
        ``keep_responses=False`` the result holds no responses (nor their bodies).
        """
        pages = _Pages(records, paginate, max_pages, limit, on_truncated, frame, keep_responses)
        url: str | None = path_or_url
        bar = None
        try:
            while url is not None:
                if pages.out.pages == 0:
                    response = self.request(
                        method,
                        url,
                        params=params,
                        json=json,
                        data=data,
                        content=content,
                        headers=headers,
                        timeout=timeout,
                    )
                else:
                    response = self.request("GET", url, headers=headers, timeout=timeout)
                url = pages.add(response)
                del response  # its body, unless kept, goes now: not held while the frame is built
                if url is not None and concurrency > 1 and pages.out.pages == 1:
                    ahead = pages.ahead(offset_param)
                    if ahead is not None:
                        bar = _progress_bar() if progress else None
                        self._fetch_ahead(pages, ahead, concurrency, headers, timeout, bar)
                        break
                if progress and url is not None:
                    if bar is None:  # a bar only once there is a second page
                        bar = _progress_bar()
                    if bar is not None:
                        bar.update(1)
        finally:
            if bar is not None:
                bar.update(1)
                bar.close()
        return pages.finish()

    def _fetch_ahead(
        self,
        pages: _Pages,
        urls: Iterator[str],
        workers: int,
        headers: Headers,
        timeout: float | None,
        bar: Any = None,
    ) -> None:
        """Pages ahead, ``workers`` at a time, each start paced by the session's
        :class:`~orange_nb.session.retry.Pacer` (the quota the API tells, ``max_rate``)."""
        from collections import deque
        from concurrent.futures import Future, ThreadPoolExecutor
        from itertools import islice

        client = self.wiring.ahead  # its own pool: see Orange.ahead_client
        pacer = self.wiring.pacer
        refused_before, answered, most = pacer.refused, 0, 0

        def get(url: str) -> httpx.Response:
            return self._request_on(client, "GET", url, {"headers": headers, "timeout": timeout})

        def top_up() -> None:
            nonlocal most
            allowed = pacer.window(workers, answered)
            # All workers allowed: two pages each, the next queued before a thread frees.
            room = (2 * workers if allowed == workers else allowed) - len(window)
            window.extend(pool.submit(get, url) for url in islice(urls, max(0, room)))
            most = max(most, min(len(window), workers))

        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="orange-page") as pool:
            # A window of pages under way, each URL made when its turn comes: memory stays
            # bounded whatever the pages' count, and a page without rows (the `total` lied)
            # ends the pull instead of asking for every page it promised.
            window: deque[Future[httpx.Response]] = deque()
            top_up()
            try:
                while window:
                    before = len(pages.rows)
                    pages.add(window.popleft().result())  # in page order
                    answered += 1
                    if bar is not None:
                        bar.update(1)  # tqdm shows the pace in pages/s
                    if len(pages.rows) == before:
                        break
                    if pages.limit is not None and len(pages.rows) >= pages.limit:
                        break
                    top_up()
                else:
                    if pages.cut_short:
                        pages._truncate()
                    pacer.proved(most, refused_before)
            finally:
                for future in window:
                    future.cancel()

    def get(
        self,
        path_or_url: str,
        params: Any = None,
        *,
        paginate: bool = False,
        records: str | None = None,
        max_pages: int = 20,
        limit: int | None = None,
        headers: Headers = None,
        concurrency: int = 1,
        frame: str = "pandas",
    ) -> pd.DataFrame | Any:
        """GET ``path_or_url``: a DataFrame when the JSON holds records, else the JSON (or text).

        ``paginate=True`` follows next links (``Link`` header, body ``next`` or cursor) up to
        ``max_pages``; ``concurrency=N`` fetches offset-addressed pages N at a time, paced
        by what the API says of its quota (see ``max_rate``). ``frame="polars"`` gives a
        polars DataFrame (the ``polars`` extra).
        """
        return self.fetch(
            path_or_url,
            params,
            frame=frame,
            concurrency=concurrency,
            paginate=paginate,
            records=records,
            max_pages=max_pages,
            limit=limit,
            headers=headers,
            keep_responses=False,
        ).result

    async def aget(
        self,
        path_or_url: str,
        params: Any = None,
        *,
        paginate: bool = False,
        records: str | None = None,
        max_pages: int = 20,
        limit: int | None = None,
        headers: Headers = None,
        timeout: float | None = None,
        concurrency: int = 1,
        on_truncated: Callable[[int], None] | None = None,
        frame: str = "pandas",
    ) -> pd.DataFrame | Any:
        """:meth:`get` for asyncio, with the same keywords: ``df = await orange.aget("/…")``.

        Pages fetched ahead (``concurrency > 1``) run on the session's threads, off the loop.
        """
        if concurrency > 1:
            fetched = await asyncio.to_thread(
                self.fetch,
                path_or_url,
                params,
                paginate=paginate,
                records=records,
                max_pages=max_pages,
                limit=limit,
                headers=headers,
                timeout=timeout,
                on_truncated=on_truncated,
                concurrency=concurrency,
                frame=frame,
                keep_responses=False,
            )
            return fetched.result
        pages = _Pages(records, paginate, max_pages, limit, on_truncated, frame, False)
        url: str | None = path_or_url
        while url is not None:
            first = pages.out.pages == 0
            response = await self.arequest(
                "GET", url, params=params if first else None, headers=headers, timeout=timeout
            )
            url = pages.add(response)
            del response
        return pages.finish().result


def _progress_bar() -> Any:
    try:
        from tqdm.auto import tqdm
    except ImportError:  # pragma: no cover - tqdm is a dependency; a broken install still works
        return None
    return tqdm(desc="pages", unit="page", leave=False)
