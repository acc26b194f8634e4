"""The HTTP API over a real uvicorn server on a loopback port, driven with httpx and the openai client.

One server per module (sample articles ingested once, API keys and CORS configured); small extra apps
for the 500 / 503 paths. Helpers here (``UvicornThread``, ``read_sse``, ``ingested_engine``) are
reused by the other ``test_api_*`` modules.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from tests.conftest import SAMPLE_ARTICLES, free_port

KEY, OTHER_KEY = "test-key-1", "second:key"
ORIGIN = "http://newsroom.example"
MAX_BODY = 100_000
FESTIVAL_Q = "How many food vendors will take part in the Harbourfront Dumpling Festival?"
TROOPS_Q = "Which countries pledged troops for Ukraine?"
FRANCE_ID = "https://example.org/newsdesk-sample/france-uk-troop-pledges"


# ------------------------------------------------------------------------------------------ helpers


class UvicornThread:
    """A real uvicorn server for ``app`` on a free 127.0.0.1 port, in a thread."""

    def __init__(self, app):
        import uvicorn

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> "UvicornThread":
        self.thread.start()
        deadline = time.time() + 30
        while not self.server.started:
            assert self.thread.is_alive(), "uvicorn exited during start-up"
            assert time.time() < deadline, "uvicorn did not start"
            time.sleep(0.02)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


def serving(engine, **settings_overrides) -> UvicornThread:
    """The real app over ``engine`` (with these settings changed, e.g. ``api_keys``) on a real server."""
    from assistant.api.app import create_app
    from assistant.settings import Settings

    settings = Settings(data_dir=engine.settings.data_dir, _env_file=None, **settings_overrides) if settings_overrides else engine.settings
    return UvicornThread(create_app(settings, engine))


def ingested_engine(data_dir: Path, embed_model, **settings_kwargs):
    """An engine over a fresh store at ``data_dir`` holding the sample articles."""
    from assistant.engine import Engine
    from assistant.settings import Settings
    from assistant.retrieval.store import ArticleStore
    from ingest.pipeline import Ingester

    settings = Settings(data_dir=data_dir, _env_file=None, **settings_kwargs)
    store = ArticleStore(settings)
    summary = Ingester(store, embed_model).ingest_paths([SAMPLE_ARTICLES])
    assert summary.failed == [] and summary.added == len(list(SAMPLE_ARTICLES.iterdir()))
    return Engine(settings, store, embed_model)


def read_sse(response: httpx.Response) -> list[tuple[str, str]]:
    """(event, data) pairs of a Server-Sent Events response, parsed line by line as the spec says."""
    events: list[tuple[str, str]] = []
    event, data = "", []
    for line in response.iter_lines():
        if line == "":
            if data:
                events.append((event or "message", "\n".join(data)))
            event, data = "", []
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "event":
            event = value
        elif name == "data":
            data.append(value)
    if data:
        events.append((event or "message", "\n".join(data)))
    return events


@dataclass
class Api:
    url: str
    engine: object
    settings: object

    def client(self, key: str | None = KEY, **kwargs) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60, **kwargs)


@pytest.fixture(scope="module")
def api(tmp_path_factory, embed_model):
    from assistant.api.app import create_app

    engine = ingested_engine(
        tmp_path_factory.mktemp("api") / "data",
        embed_model,
        api_keys=f" {KEY} , {OTHER_KEY} ",
        cors_origins=ORIGIN,
        max_body_bytes=MAX_BODY,
    )
    with UvicornThread(create_app(engine.settings, engine)) as server:
        yield Api(server.url, engine, engine.settings)


@pytest.fixture
def client(api):
    with api.client() as c:
        yield c


def assert_error(response: httpx.Response, status: int, code: str, *fragments: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"} and body["error"]["code"] == code, body
    for fragment in fragments:
        assert fragment in body["error"]["message"], body
    assert "Traceback" not in response.text
    return body["error"]


# -------------------------------------------------------------------------------------------- ask


def test_ask_returns_the_engine_answer(client, api):
    response = client.post("/v1/ask", json={"question": FESTIVAL_Q})
    assert response.status_code == 200, response.text
    assert response.headers["x-request-id"]
    body = response.json()
    from assistant.answer import Answer

    assert set(body) == set(Answer.model_fields)  # the engine's Answer, every field
    assert {"question", "standalone_question", "answer", "sources", "retrieved", "declined", "generator", "timings_ms"} <= set(body)
    assert body["question"] == FESTIVAL_Q and not body["declined"] and "48" in body["answer"]
    assert "[1]" in body["answer"]
    first = body["sources"][0]
    assert set(first) == {"n", "article_id", "title", "url", "published_at", "source", "authors", "also_in", "quote"}
    assert first["n"] == 1 and first["article_id"] == "sample-dumpling-festival" and first["quote"]
    assert body["retrieved"][0] == "sample-dumpling-festival"
    assert {"condense", "retrieve", "answer", "total"} <= set(body["timings_ms"])
    # Same as the engine (the API renders, it does not answer).
    direct = api.engine.ask(FESTIVAL_Q)
    assert body["answer"] == direct.answer and body["sources"] == [s.model_dump() for s in direct.sources]


def test_ask_with_history_condenses_the_follow_up(client):
    history = [
        {"role": "user", "content": "Tell me about the Harbourfront Dumpling Festival"},
        {"role": "assistant", "content": "It returns to Marlow Bay in May. [1]"},
    ]
    body = client.post("/v1/ask", json={"question": "When is it?", "history": history}).json()
    assert body["question"] == "When is it?"
    assert "Dumpling Festival" in body["standalone_question"]
    assert not body["declined"] and body["sources"][0]["article_id"] == "sample-dumpling-festival"


def test_ask_declines_when_unsupported(client):
    body = client.post("/v1/ask", json={"question": "Who won the 2026 Eurovision Song Contest?"}).json()
    assert body["declined"] is True


def test_ask_top_k_and_request_id_pass_through(client):
    response = client.post("/v1/ask", json={"question": FESTIVAL_Q, "top_k": 1}, headers={"X-Request-ID": "req-abc.1"})
    assert response.status_code == 200 and response.headers["x-request-id"] == "req-abc.1"
    assert len(response.json()["sources"]) == 1


def test_filters_pass_through(client, api):
    def ask(filters):
        response = client.post("/v1/ask", json={"question": FESTIVAL_Q, "filters": filters})
        assert response.status_code == 200, response.text
        return response.json()

    records = api.engine.store.records()
    before = ask({"until": "2026-01-10"})
    assert "sample-dumpling-festival" not in before["retrieved"]
    assert before["retrieved"] and all("2026-01-01" <= records[i].published_at <= "2026-01-10" for i in before["retrieved"])
    after = ask({"since": "2026-01-20"})
    assert after["retrieved"] == ["sample-dumpling-festival"]
    wire = ask({"source": "Newsdesk Sample Wire"})  # the publisher; "F. Bureau" is the France page's byline
    assert wire["retrieved"] and all(records[i].source == "Newsdesk Sample Wire" for i in wire["retrieved"])
    assert ask({"source": "F. Bureau"})["retrieved"] == []
    assert ask({"source": "No Such Wire"})["retrieved"] == []


def test_ask_stream_sse_events_in_order(client):
    with client.stream("POST", "/v1/ask", json={"question": FESTIVAL_Q, "stream": True}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = read_sse(response)
    kinds = [kind for kind, _ in events]
    assert kinds[0] == "sources" and kinds[-1] == "done" and set(kinds[1:-1]) == {"delta"} and len(kinds) >= 3
    payloads = [json.loads(data) for _, data in events]  # every data line is JSON
    from assistant.answer import Answer

    done = Answer.model_validate(payloads[-1])
    assert "".join(p["text"] for p in payloads[1:-1]) == done.answer
    assert payloads[0]["sources"] == [s.model_dump() for s in done.sources]
    assert "48" in done.answer and not done.declined


def test_ask_stream_of_a_decline(client):
    with client.stream("POST", "/v1/ask", json={"question": "Who won the 2026 Eurovision Song Contest?", "stream": True}) as r:
        events = read_sse(r)
    assert [k for k, _ in events][0] == "sources" and events[-1][0] == "done"
    done = json.loads(events[-1][1])
    assert done["declined"] and "".join(json.loads(d)["text"] for k, d in events if k == "delta") == done["answer"]


# ------------------------------------------------------------------------------ OpenAI-compatible


def openai_client(api, key=KEY):
    from openai import OpenAI

    return OpenAI(base_url=f"{api.url}/v1", api_key=key, max_retries=0, timeout=60)


def test_chat_completions_with_the_openai_client(api):
    client = openai_client(api)
    completion = client.chat.completions.create(
        model="newsdesk",
        messages=[
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Tell me about the Harbourfront Dumpling Festival"},
            {"role": "assistant", "content": "It returns to Marlow Bay in May. [1]"},
            {"role": "user", "content": "How many food vendors will take part?"},
        ],
        temperature=0.2,
    )
    assert completion.object == "chat.completion" and completion.model == "newsdesk"
    choice = completion.choices[0]
    assert choice.message.role == "assistant" and choice.finish_reason == "stop"
    assert "48" in choice.message.content and "[1]" in choice.message.content
    sources = completion.model_extra["sources"]
    assert completion.sources == sources  # extra fields read as attributes too
    assert sources[0]["n"] == 1 and sources[0]["article_id"] == "sample-dumpling-festival"
    # Same answer as /v1/ask for the same conversation.
    expected = api.engine.ask(
        "How many food vendors will take part?",
        [
            {"role": "user", "content": "Tell me about the Harbourfront Dumpling Festival"},
            {"role": "assistant", "content": "It returns to Marlow Bay in May. [1]"},
        ],
    )
    assert choice.message.content == expected.answer


def test_chat_completions_stream_with_the_openai_client(api):
    client = openai_client(api)
    stream = client.chat.completions.create(
        model="newsdesk", messages=[{"role": "user", "content": FESTIVAL_Q}], stream=True
    )
    chunks = list(stream)
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[0].model_extra["sources"][0]["article_id"] == "sample-dumpling-festival"
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert chunks[-1].model_extra["sources"] == chunks[0].model_extra["sources"]  # the final sources ride on the last chunk
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert text == api.engine.ask(FESTIVAL_Q).answer
    assert chunks[-1].model_extra["answer"] == text and chunks[-1].model_extra["generator"] == "extractive"


def test_chat_stream_ends_with_done_marker(client):
    body = {"model": "x", "messages": [{"role": "user", "content": [{"type": "text", "text": FESTIVAL_Q}]}], "stream": True}
    with client.stream("POST", "/v1/chat/completions", json=body) as response:
        events = read_sse(response)
    assert events[-1] == ("message", "[DONE]")
    assert all(json.loads(d)["model"] == "x" for _, d in events[:-1])


def test_chat_errors_through_the_openai_client(api):
    import openai

    with pytest.raises(openai.AuthenticationError):
        openai_client(api, key="wrong").chat.completions.create(model="newsdesk", messages=[{"role": "user", "content": "hi"}])
    with pytest.raises(openai.UnprocessableEntityError) as info:
        openai_client(api).chat.completions.create(model="newsdesk", messages=[{"role": "system", "content": "only system"}])
    assert "messages" in info.value.body["message"]


def test_chat_validation(client, api):
    def post(messages):
        return client.post("/v1/chat/completions", json={"model": "newsdesk", "messages": messages})

    assert_error(post([]), 422, "validation_error", "messages")
    assert_error(post([{"role": "user", "content": "   "}]), 422, "validation_error", "messages[0].content: must not be empty")
    long = "x" * (api.settings.max_question_chars + 1)
    assert_error(post([{"role": "user", "content": long}]), 422, "validation_error", "messages[0].content", "at most")
    turns = [{"role": "user" if i % 2 == 0 else "assistant", "content": "hello"} for i in range(api.settings.max_history_turns + 1)]
    assert_error(post(turns + [{"role": "user", "content": "and?"}]), 422, "validation_error", "messages")
    assert_error(post([{"role": "robot", "content": "hi"}]), 422, "validation_error", "messages[0].role")


def test_models_list(api):
    models = openai_client(api).models.list()
    assert [m.id for m in models.data] == ["newsdesk"]


# -------------------------------------------------------------------------------------- documents


def test_documents_list_and_pages(client):
    everything = client.get("/v1/documents", params={"limit": 500}).json()
    assert everything["total"] == len(list(SAMPLE_ARTICLES.iterdir())) == len(everything["items"])
    item = everything["items"][0]
    assert set(item) == {"id", "title", "url", "published_at", "source", "chunks"} and item["chunks"] >= 1
    dates = [i["published_at"] for i in everything["items"]]
    assert dates == sorted(dates, reverse=True)  # newest first
    first = client.get("/v1/documents", params={"offset": 0, "limit": 4}).json()
    rest = client.get("/v1/documents", params={"offset": 4, "limit": 100}).json()
    assert first["total"] == rest["total"] == everything["total"] and len(first["items"]) == 4
    assert [i["id"] for i in first["items"] + rest["items"]] == [i["id"] for i in everything["items"]]
    assert client.get("/v1/documents", params={"offset": 1000}).json()["items"] == []
    assert_error(client.get("/v1/documents", params={"limit": 0}), 422, "validation_error", "limit")
    assert_error(client.get("/v1/documents", params={"offset": "x"}), 422, "validation_error", "offset")


def test_document_ids_with_slashes_and_colons(client, api):
    got = client.get(f"/v1/documents/{FRANCE_ID}")
    assert got.status_code == 200, got.text
    assert got.json()["id"] == FRANCE_ID and got.json()["source"] == "Newsdesk Sample Wire"
    file_id = next(r.id for r in api.engine.store.records().values() if r.path.endswith("comet-exhibit.txt"))
    assert file_id.startswith("comet-exhibit.txt#")  # file name + title: a '#' in an id, quoted in the path
    assert client.get(f"/v1/documents/{quote(file_id)}").json()["id"] == file_id
    assert client.get("/v1/documents/sample-reactions").json()["title"]
    assert_error(client.get("/v1/documents/no-such-id"), 404, "not_found", "no-such-id")
    assert_error(client.get("/v1/documents/https://example.org/missing"), 404, "not_found")


def test_documents_post_is_idempotent_and_reports_bad_articles(client):
    articles = [
        {
            "id": "api-test/observatory:1",
            "title": "Zorblatt observatory opens",
            "published_at": "2026-02-03",
            "source": "API Test Wire",
            "text": "The Zorblatt observatory opened in Tromsø on 3 February with seventeen telescopes. "
            "Its director, Ilse Varga, said the first public night is planned for March.",
        },
        {"id": "api-test/no-text", "title": "No text here"},
        {"title": "Posted without id or url", "body": "The Quillmore ferry now leaves every twenty minutes."},
        {"id": "api-test/bad-title", "title": {"nested": True}, "text": "Some text."},
        {"id": "api-test/observatory:1", "text": "A second article with the same id."},
    ]
    first = client.post("/v1/documents", json={"articles": articles})
    assert first.status_code == 200, first.text
    summary = first.json()
    assert summary["added"] == 2 and summary["updated"] == 0 and summary["unchanged"] == 0 and summary["chunks"] >= 2
    assert [f["index"] for f in summary["failed"]] == [1, 3, 4]
    assert "no text" in summary["failed"][0]["error"] and "title" in summary["failed"][1]["error"]
    assert "duplicate" in summary["failed"][2]["error"]
    derived_id = summary["ids"][1]
    assert summary["ids"][0] == "api-test/observatory:1" and derived_id.startswith("api:")
    try:
        again = client.post("/v1/documents", json={"articles": articles}).json()
        assert again["added"] == 0 and again["updated"] == 0 and again["unchanged"] == 2 and again["chunks"] == 0
        assert again["ids"] == summary["ids"]

        doc = client.get("/v1/documents/api-test/observatory:1").json()
        assert doc["title"] == "Zorblatt observatory opens" and doc["published_at"] == "2026-02-03" and doc["chunks"] >= 1
        answer = client.post("/v1/ask", json={"question": "How many telescopes does the Zorblatt observatory have?"}).json()
        assert answer["sources"][0]["article_id"] == "api-test/observatory:1" and "seventeen" in answer["answer"]

        changed = dict(articles[0], text=articles[0]["text"] + " Tickets are free.")
        assert client.post("/v1/documents", json={"articles": [changed]}).json()["updated"] == 1
    finally:
        for doc_id in ("api-test/observatory:1", derived_id):
            deleted = client.delete(f"/v1/documents/{doc_id}")
            assert deleted.status_code == 200 and deleted.json() == {"deleted": doc_id}
    assert_error(client.get("/v1/documents/api-test/observatory:1"), 404, "not_found")
    assert_error(client.delete("/v1/documents/api-test/observatory:1"), 404, "not_found")
    answer = client.post("/v1/ask", json={"question": "How many telescopes does the Zorblatt observatory have?"}).json()
    assert "api-test/observatory:1" not in answer["retrieved"]


def test_documents_post_validation(client):
    assert_error(client.post("/v1/documents", json={}), 422, "validation_error", "articles: is required")
    assert_error(client.post("/v1/documents", json={"articles": "nope"}), 422, "validation_error", "articles")
    assert_error(client.post("/v1/documents", json={"articles": [1]}), 422, "validation_error", "articles[0]")
    empty = client.post("/v1/documents", json={"articles": []}).json()
    assert empty["added"] == 0 and empty["failed"] == []


# ------------------------------------------------------------------------------------------- auth


def test_auth_required_on_v1_routes(api):
    requests = [
        ("POST", "/v1/ask", {"question": FESTIVAL_Q}),
        ("POST", "/v1/chat/completions", {"messages": [{"role": "user", "content": "hi"}]}),
        ("GET", "/v1/documents", None),
        ("GET", "/v1/documents/sample-reactions", None),
        ("POST", "/v1/documents", {"articles": []}),
        ("DELETE", "/v1/documents/sample-reactions", None),
        ("GET", "/v1/models", None),
    ]
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {KEY}"}, {"Authorization": f"Bearer {KEY}x"}):
        with httpx.Client(base_url=api.url, headers=headers, timeout=60) as anon:
            for method, path, body in requests:
                response = anon.request(method, path, json=body)
                assert_error(response, 401, "unauthorized", "API key")
                assert response.headers["www-authenticate"] == "Bearer"
    assert api.engine.store.get_record("sample-reactions") is not None  # the unauthorised DELETE did nothing
    # Bad input without a key is still 401: nothing is revealed about the request.
    with api.client(key=None) as anon:
        assert anon.post("/v1/ask", json={"question": ""}).status_code == 401
    for key in (KEY, OTHER_KEY):  # either configured key works (whitespace around keys in the setting ignored)
        with api.client(key=key) as keyed:
            assert keyed.get("/v1/documents").status_code == 200
            assert keyed.post("/v1/ask", json={"question": FESTIVAL_Q}).status_code == 200


def test_health_docs_and_metrics_need_no_key(api):
    with api.client(key=None, follow_redirects=False) as anon:
        assert anon.get("/healthz").json() == {"status": "ok"}
        assert anon.get("/readyz").status_code == 200
        assert anon.get("/metrics").status_code == 200
        assert anon.get("/docs").status_code == 200
        schema = anon.get("/openapi.json").json()
    assert schema["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    ask = schema["paths"]["/v1/ask"]["post"]
    assert ask["security"] and ask["description"].startswith("Answer a question")
    assert {"401", "413", "422", "500"} <= set(ask["responses"])
    assert "text/event-stream" in ask["responses"]["200"]["content"]
    question = schema["components"]["schemas"]["AskRequest"]["properties"]["question"]
    assert question["maxLength"] == api.settings.max_question_chars and question["minLength"] == 1
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            assert operation.get("description"), f"{method.upper()} {path} has no docstring"
            if path.startswith("/v1"):
                assert "401" in operation["responses"], f"{method.upper()} {path} does not declare 401"


# ----------------------------------------------------------------------------------------- errors


def test_validation_errors_name_the_field(client, api):
    def ask(body):
        return client.post("/v1/ask", json=body)

    assert_error(ask({"question": ""}), 422, "validation_error", "question: must not be empty")
    assert_error(ask({"question": " \n\t "}), 422, "validation_error", "question: must not be empty")
    limit = api.settings.max_question_chars
    error = assert_error(ask({"question": "x" * (limit + 1)}), 422, "validation_error", "question", f"at most {limit}")
    assert error["details"] == [{"field": "question", "message": f"must be at most {limit} characters"}]
    assert ask({"question": "Dumpling " + "x" * (limit - 9)}).status_code == 200  # exactly at the limit
    turns = [{"role": "user", "content": "hi"}] * (api.settings.max_history_turns + 1)
    assert_error(ask({"question": "why?", "history": turns}), 422, "validation_error", "history", "at most")
    assert_error(ask({}), 422, "validation_error", "question: is required")
    assert_error(ask({"question": 5}), 422, "validation_error", "question")
    assert_error(ask({"question": "ok?", "top_k": "5"}), 422, "validation_error", "top_k")
    assert_error(ask({"question": "ok?", "top_k": 0}), 422, "validation_error", "top_k")
    assert_error(ask({"question": "ok?", "stream": "yes"}), 422, "validation_error", "stream")
    assert_error(ask({"question": "ok?", "history": [{"role": "bot", "content": "x"}]}), 422, "validation_error", "history[0].role")
    assert_error(ask({"question": "ok?", "filters": {"since": "last week"}}), 422, "validation_error", "filters.since")
    assert_error(ask({"question": "ok?", "filters": {"since": 20260101}}), 422, "validation_error", "filters.since")
    assert_error(ask({"question": "ok?", "colour": "blue"}), 422, "validation_error", "colour: unknown field")
    assert_error(ask(["question"]), 422, "validation_error", "body")


def test_bad_json_is_422(client):
    response = client.post("/v1/ask", content=b'{"question": "unterminated', headers={"Content-Type": "application/json"})
    assert_error(response, 422, "validation_error", "invalid JSON")
    assert_error(client.post("/v1/ask"), 422, "validation_error", "body")
    not_utf8 = client.post("/v1/documents", content=b'{"articles": ["\xff\xfe"]}', headers={"Content-Type": "application/json"})
    assert_error(not_utf8, 422, "validation_error", "body: invalid JSON")
    # Valid JSON syntax, but half a surrogate pair is not text: refused before it reaches the store.
    for path, body in (
        ("/v1/ask", b'{"question": "festival \\ud800"}'),
        ("/v1/ask", b'{"question": "ok", "filters": {"source": "\\udfff"}}'),
        ("/v1/documents", b'{"articles": [{"id": "\\ud800", "text": "hello"}]}'),
        ("/v1/chat/completions", b'{"messages": [{"role": "user", "content": "\\ud800"}]}'),
    ):
        response = client.post(path, content=body, headers={"Content-Type": "application/json"})
        assert_error(response, 422, "validation_error", "body: invalid JSON", "surrogate")
    emoji = client.post("/v1/ask", content=b'{"question": "festival \\ud83c\\udf5c?"}', headers={"Content-Type": "application/json"})
    assert emoji.status_code == 200 and emoji.json()["question"] == "festival \U0001f35c?"  # a whole pair is fine


def test_body_too_large_is_413(client):
    big = {"question": "hi", "history": [{"role": "user", "content": "x" * MAX_BODY}]}
    assert_error(client.post("/v1/ask", json=big), 413, "payload_too_large", str(MAX_BODY))

    def chunked():  # no Content-Length: the streamed body is capped too
        for _ in range(MAX_BODY // 10_000 + 2):
            yield b" " * 10_000

    response = client.post("/v1/documents", content=chunked(), headers={"Content-Type": "application/json"})
    assert "content-length" not in response.request.headers
    assert_error(response, 413, "payload_too_large")
    # Under the limit is fine.
    assert client.post("/v1/ask", json={"question": "hi " + "x" * (MAX_BODY // 2)}).status_code == 422  # too long a question, not too large a body


def test_unknown_route_and_method_are_json(client):
    assert_error(client.get("/v1/nothing-here"), 404, "not_found")
    response = client.put("/v1/ask", json={})
    assert_error(response, 405, "method_not_allowed")
    assert response.headers["allow"] == "POST"
    # A path served by several routes lists all their methods.
    assert client.put("/v1/documents").headers["allow"] == "GET, POST"
    assert client.post("/v1/documents/some/id").headers["allow"] == "GET, DELETE"


class _BrokenEngine:
    """Stands in for a failing engine: everything but answering works."""

    def __init__(self, engine, store=None):
        self.settings, self.store, self.embed_model = engine.settings, store or engine.store, engine.embed_model

    def ask(self, *args, **kwargs):
        raise RuntimeError("secret internals /etc/passwd")

    def stream(self, *args, **kwargs):
        yield "sources", []
        raise RuntimeError("secret internals mid-stream")


class _DeadStore:
    def __init__(self, store):
        self._store = store

    def __getattr__(self, name):
        return getattr(self._store, name)

    def version(self):
        raise ConnectionError("chroma is down")

    def count_chunks(self):
        raise ConnectionError("chroma is down")


def test_unexpected_errors_are_json_500_with_request_id(api, caplog):
    from assistant.api.app import create_app
    from assistant.settings import Settings

    settings = Settings(data_dir=api.settings.data_dir, _env_file=None)  # no keys, no CORS
    with UvicornThread(create_app(settings, _BrokenEngine(api.engine))) as server, httpx.Client(base_url=server.url, timeout=30) as c:
        response = c.post("/v1/ask", json={"question": "anything"}, headers={"X-Request-ID": "boom-1"})
        error = assert_error(response, 500, "internal_error", "boom-1")
        assert "secret" not in response.text and "passwd" not in response.text
        assert any("boom-1" in r.getMessage() for r in caplog.records), "the log names the request id"
        chat = c.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": "hi"}]})
        assert_error(chat, 500, "internal_error")

        with c.stream("POST", "/v1/ask", json={"question": "anything", "stream": True}) as r:
            events = read_sse(r)
        assert [k for k, _ in events] == ["sources", "error"]
        assert json.loads(events[-1][1])["error"]["code"] == "internal_error" and "secret" not in events[-1][1]

        with c.stream("POST", "/v1/chat/completions", json={"messages": [{"role": "user", "content": "hi"}], "stream": True}) as r:
            events = read_sse(r)
        assert "error" in json.loads(events[-1][1])

        assert "access-control-allow-origin" not in c.get("/healthz", headers={"Origin": ORIGIN}).headers  # CORS off
        assert c.get("/v1/documents").status_code == 200  # no keys configured: /v1 is open
        metrics = c.get("/metrics").text
        assert 'newsdesk_http_requests_total{method="POST",route="/v1/ask",status="500"} 1.0' in metrics
    assert error["message"]


def test_readyz_is_503_when_the_store_is_down(api):
    from assistant.api.app import create_app

    with UvicornThread(create_app(api.settings, _BrokenEngine(api.engine, _DeadStore(api.engine.store)))) as server:
        response = httpx.get(f"{server.url}/readyz", timeout=30)
        assert response.status_code == 503
        body = response.json()
        assert body["status"] == "unavailable" and body["checks"] == {"models": True, "store": False}
        assert body["error"]["code"] == "not_ready" and "chroma is down" in body["error"]["message"]
        assert httpx.get(f"{server.url}/healthz").status_code == 200  # alive, just not ready
        metrics = httpx.get(f"{server.url}/metrics")
        assert metrics.status_code == 200 and "newsdesk_documents NaN" in metrics.text


# --------------------------------------------------------------------------- readiness, metrics, CORS


def test_readyz(api):
    body = httpx.get(f"{api.url}/readyz").json()
    assert body["status"] == "ready" and body["checks"] == {"models": True, "store": True}


def test_metrics_after_some_requests(client, api):
    client.post("/v1/ask", json={"question": FESTIVAL_Q})
    client.post("/v1/ask", json={"question": ""})
    client.get("/v1/documents/no-such-doc")
    client.post("/v1/ask", content=b"x" * (MAX_BODY + 1), headers={"Content-Type": "application/json"})
    response = httpx.get(f"{api.url}/metrics", follow_redirects=False)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert 'newsdesk_http_requests_total{method="POST",route="/v1/ask",status="200"}' in text
    assert 'newsdesk_http_requests_total{method="POST",route="/v1/ask",status="422"}' in text
    assert 'newsdesk_http_requests_total{method="GET",route="/v1/documents/{id:path}",status="404"}' in text
    assert 'newsdesk_http_requests_total{method="POST",route="/v1/ask",status="413"}' in text  # refused before routing
    assert "no-such-doc" not in text  # route templates, not raw paths
    for stage in ("condense", "retrieve", "answer", "total"):
        assert f'newsdesk_engine_stage_seconds_count{{stage="{stage}"}}' in text
    assert 'newsdesk_engine_stage_seconds_bucket{le="0.1",stage="retrieve"}' in text
    assert 'newsdesk_answers_total{outcome="answered"}' in text
    assert "newsdesk_documents 10.0" in text
    assert f"newsdesk_chunks {float(api.engine.store.count_chunks())}" in text
    assert 'newsdesk_http_request_duration_seconds_count{method="POST",route="/v1/ask"}' in text


def test_cors_when_configured(api):
    preflight = httpx.options(
        f"{api.url}/v1/ask",
        headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization, content-type"},
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == ORIGIN
    assert "authorization" in preflight.headers["access-control-allow-headers"].lower()
    simple = httpx.get(f"{api.url}/healthz", headers={"Origin": ORIGIN})
    assert simple.headers["access-control-allow-origin"] == ORIGIN
    denied = httpx.post(f"{api.url}/v1/ask", json={"question": "x"}, headers={"Origin": ORIGIN})  # a 401 still carries CORS
    assert denied.status_code == 401 and denied.headers["access-control-allow-origin"] == ORIGIN
    other = httpx.get(f"{api.url}/healthz", headers={"Origin": "http://elsewhere.example"})
    assert "access-control-allow-origin" not in other.headers


def test_slack_events_mounted_when_slack_is_configured(api):
    pytest.importorskip("assistant.slack.http")
    from assistant.api.app import create_app
    from assistant.settings import Settings

    settings = Settings(
        data_dir=api.settings.data_dir,
        api_keys=KEY,
        slack_bot_token="xoxb-test",
        slack_signing_secret="not-a-real-secret",
        slack_api_url="http://127.0.0.1:9/api/",  # nothing listens: no call may leave the machine
        _env_file=None,
    )
    with UvicornThread(create_app(settings, api.engine)) as server:
        unsigned = httpx.post(f"{server.url}/slack/events", json={"type": "url_verification", "challenge": "c"}, timeout=30)
        assert unsigned.status_code == 401  # Slack's signature check, not the API key (Slack sends none)
        assert "API key" not in unsigned.text
        assert "/slack/events" not in httpx.get(f"{server.url}/openapi.json").json()["paths"]
        assert httpx.get(f"{server.url}/v1/models", headers={"Authorization": f"Bearer {KEY}"}).status_code == 200
    without = create_app(Settings(data_dir=api.settings.data_dir, slack_bot_token="xoxb-test", _env_file=None), api.engine)
    assert not any(getattr(r, "path", "") == "/slack/events" for r in without.routes)  # both credentials needed
