"""schemathesis against the API's own OpenAPI schema, sent to a real server: no 5xx, responses match.

The schema is the one the server publishes (built from the same settings, no engine needed, so it is
known when tests are collected); the requests go to a uvicorn server of its own, whose store gets
whatever the generated requests post or delete. It has an API key, so the checks also see every /v1
route refuse requests without one.
"""

from __future__ import annotations

import re

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from assistant.api.app import openapi_schema
from assistant.settings import Settings
from tests.test_api import KEY, UvicornThread, ingested_engine

# The chat schema is OpenAI's request shape, which cannot say that the *last* user message must be a
# non-blank question of at most max_question_chars, or bound the turns before it: schema-valid chat
# requests may get 422 (naming the field). Every other operation's schema states all its limits.
CONFIG = schemathesis.Config.from_dict(
    {
        "auth": {"openapi": {"HTTPBearer": {"bearer": KEY}}},  # the schema's own security scheme
        "operations": [
            {
                "include-path": "/v1/chat/completions",
                "checks": {"positive_data_acceptance": {"expected-statuses": ["2xx", "401", "422"]}},
            }
        ]
    }
)

schema = schemathesis.openapi.from_dict(openapi_schema(Settings(api_keys=KEY, _env_file=None)), config=CONFIG)

# Bodies that carry URLs make the server fetch them. Generated hosts are made up (and example.org is
# real): every URL is pointed at a closed loopback port, which the fetcher refuses without connecting,
# so no run of this test resolves or reaches an outside name.
_URL_HOST = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://)[^/?#]*")
_FETCHING = {("POST", "/v1/documents"), ("POST", "/v1/feeds")}


def _loopback(url):
    return _URL_HOST.sub(r"\g<1>127.0.0.1:9", url) if isinstance(url, str) else url


@schemathesis.hook
def before_call(ctx, case, kwargs):
    body = case.body
    if (case.method.upper(), case.path) not in _FETCHING or not isinstance(body, dict):
        return
    if isinstance(body.get("urls"), list):
        body = {**body, "urls": [_loopback(u) for u in body["urls"]]}
    if isinstance(body.get("url_lines"), list):  # the server trims each line before reading it as a URL
        body = {**body, "url_lines": [_loopback(u.strip()) if isinstance(u, str) else u for u in body["url_lines"]]}
    if "url" in body:
        body = {**body, "url": _loopback(body["url"])}
    case.body = body


@pytest.fixture(scope="module")
def server(tmp_path_factory, embed_model):
    from assistant.api.app import create_app

    engine = ingested_engine(tmp_path_factory.mktemp("schema") / "data", embed_model, api_keys=KEY)
    assert openapi_schema(engine.settings) == schema.raw_schema
    with UvicornThread(create_app(engine.settings, engine)) as running:
        yield running


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture],
)
def test_api_conforms_to_its_schema(case, server):
    case.call_and_validate(base_url=server.url, timeout=60)
