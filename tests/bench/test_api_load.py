"""The api scenario's HTTP client (bench/api_load.py): one whole response
read per request on a keep-alive connection, by length or chunked, and a
non-200 counted as a failure."""

import asyncio

import pytest

from bench.api_load import _exchange

REQUEST = b"GET /api/rooms/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


async def _answers(responses: list[bytes]) -> list[bool]:
    """Serve `responses` one per request on one connection; what _exchange says of each."""

    async def serve(reader, writer):
        for response in responses:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(response)
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    connection = await asyncio.open_connection("127.0.0.1", port)
    try:
        return [await asyncio.wait_for(_exchange(connection, REQUEST), 10) for _ in responses]
    finally:
        connection[1].close()
        server.close()


def test_responses_by_length_and_chunked_are_read_whole_on_one_connection():
    by_length = b'HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n{"rooms":1}'
    chunked = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n2\r\nef\r\n0\r\n\r\n"
    )
    refused = b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 2\r\n\r\n{}"
    assert asyncio.run(_answers([by_length, chunked, refused, by_length])) == [
        True,
        True,
        False,
        True,
    ]


def test_a_response_without_a_length_is_an_error():
    with pytest.raises(ValueError):
        asyncio.run(_answers([b"HTTP/1.1 200 OK\r\n\r\nbody"]))
