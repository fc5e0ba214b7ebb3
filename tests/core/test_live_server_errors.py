"""The suite's guard against server errors during live-server tests, and its SQLite test database."""

import urllib.error
import urllib.request

import pytest
from django.db import connection

from tests.conftest import live_server_errors_fail_the_test


@pytest.mark.server_errors_expected
@pytest.mark.urls("tests.core.failing_urls")
def test_live_server_guard_fails_a_test_whose_page_answered_500(live_server):
    with pytest.raises(pytest.fail.Exception, match="server error"):
        with live_server_errors_fail_the_test():
            with pytest.raises(urllib.error.HTTPError) as answer:
                urllib.request.urlopen(live_server.url + "/broken/", timeout=10)
            assert answer.value.code == 500


@pytest.mark.urls("tests.core.failing_urls")
def test_live_server_guard_lets_a_client_error_pass(live_server):
    with live_server_errors_fail_the_test() as seen:
        with pytest.raises(urllib.error.HTTPError) as answer:
            urllib.request.urlopen(live_server.url + "/missing/", timeout=10)
        assert answer.value.code == 404
    assert seen.records == []


@pytest.mark.smoke
def test_sqlite_test_database_is_a_file_each_thread_connects_to(db):
    # One in-memory connection shared with the live server's threads is what made browser tests flaky.
    if connection.vendor != "sqlite":
        pytest.skip("only the SQLite default shares an in-memory connection")
    assert not connection.is_in_memory_db()
