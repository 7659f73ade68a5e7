"""EMAIL_URL as the operator writes it, to Django's EMAIL_* settings
(project/email_url.py)."""

import pytest

from project.email_url import email_settings


def test_smtp_with_a_login():
    conf = email_settings("smtp://me:s%40cret@mail.example:2525")
    assert (conf["EMAIL_HOST"], conf["EMAIL_PORT"]) == ("mail.example", 2525)
    assert (conf["EMAIL_HOST_USER"], conf["EMAIL_HOST_PASSWORD"]) == ("me", "s@cret")
    assert not conf["EMAIL_USE_TLS"] and not conf["EMAIL_USE_SSL"]


def test_submission_is_starttls_on_587():
    conf = email_settings("submission://me:pw@mail.example")
    assert conf["EMAIL_PORT"] == 587 and conf["EMAIL_USE_TLS"] and not conf["EMAIL_USE_SSL"]


def test_smtps_is_tls_from_the_first_byte_on_465():
    conf = email_settings("smtps://me:pw@mail.example")
    assert conf["EMAIL_PORT"] == 465 and conf["EMAIL_USE_SSL"] and not conf["EMAIL_USE_TLS"]
    assert email_settings("smtps://mail.example:2465")["EMAIL_PORT"] == 2465


def test_no_url_is_no_email():
    assert email_settings(None)["EMAIL_BACKEND"].endswith("dummy.EmailBackend")
    assert email_settings("console:")["EMAIL_BACKEND"].endswith("console.EmailBackend")


def test_another_scheme_is_refused():
    with pytest.raises(ValueError, match="scheme"):
        email_settings("http://mail.example")
