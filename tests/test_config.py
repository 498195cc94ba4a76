"""Settings from the environment: a value out of range stops the start with a message naming
the setting, instead of a bare ValueError or a server that silently refuses every PDF."""

from __future__ import annotations

import pytest

from observe.config import build_config


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("OBSERVE_PDF_RENDERS", "0", "OBSERVE_PDF_RENDERS must be a whole number from 1 to 64"),
        ("OBSERVE_PDF_RENDERS", "-1", "OBSERVE_PDF_RENDERS must be a whole number from 1 to 64"),
        ("OBSERVE_PDF_RENDERS", "two", "OBSERVE_PDF_RENDERS must be a whole number from 1 to 64"),
        ("OBSERVE_PDF_WAIT", "-1", "OBSERVE_PDF_WAIT must be a number of seconds from 0 to 300"),
        ("OBSERVE_PDF_WAIT", "nan", "OBSERVE_PDF_WAIT must be a number of seconds from 0 to 300"),
        ("OBSERVE_PDF_WAIT", "soon", "OBSERVE_PDF_WAIT must be a number of seconds from 0 to 300"),
        ("OBSERVE_PROXY_HOPS", "²", "OBSERVE_PROXY_HOPS must be a whole number from 0 to 10"),
        ("OBSERVE_MIN_GROUP_SIZE", "0", "OBSERVE_MIN_GROUP_SIZE must be a whole number from 1"),
    ],
)
def test_a_bad_setting_stops_the_start_naming_it(monkeypatch, tmp_path, name, value, message):
    monkeypatch.setenv(name, value)
    with pytest.raises(RuntimeError, match=message):
        build_config(str(tmp_path), {"SECRET_KEY": "x"})


def test_good_settings_and_defaults(monkeypatch, tmp_path):
    config = build_config(str(tmp_path), {"SECRET_KEY": "x"})
    assert (config["OBSERVE_PDF_RENDERS"], config["OBSERVE_PDF_WAIT"]) == (2, 5.0)
    monkeypatch.setenv("OBSERVE_PDF_RENDERS", "4")
    monkeypatch.setenv("OBSERVE_PDF_WAIT", "0.5")
    monkeypatch.setenv("OBSERVE_PROXY_HOPS", "1")
    monkeypatch.setenv("OBSERVE_MIN_GROUP_SIZE", "5")
    config = build_config(str(tmp_path), {"SECRET_KEY": "x"})
    assert config["OBSERVE_PDF_RENDERS"] == 4
    assert config["OBSERVE_PDF_WAIT"] == 0.5
    assert config["OBSERVE_PROXY_HOPS"] == 1
    assert config["OBSERVE_MIN_GROUP_SIZE"] == 5
