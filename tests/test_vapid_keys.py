"""The embedded default makes its own Web Push keys once, keeps them in instance/ (0600) and reuses
them; production and tests only ever use the keys they are given."""

from __future__ import annotations

import json
import stat

import pytest
from cryptography.hazmat.primitives import serialization
from py_vapid import Vapid

from app.config import ConfigError, build_config
from app.vapid_keys import EMBEDDED_SUBJECT, KEY_FILE, _b64url, generate_vapid_keys

VAPID_NAMES = ("VAPID_PUBLIC_KEY", "VAPID_PRIVATE_KEY", "VAPID_SUBJECT", "APP_ENV")


@pytest.fixture(autouse=True)
def no_vapid_environment(monkeypatch):
    for name in VAPID_NAMES:
        monkeypatch.delenv(name, raising=False)


def _public_of(private: str) -> str:
    vapid = Vapid.from_string(private_key=private)
    raw = vapid.public_key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return _b64url(raw)


def test_the_embedded_default_makes_a_usable_pair_once_and_reuses_it(tmp_path):
    first = build_config(str(tmp_path))
    key_file = tmp_path / KEY_FILE
    assert key_file.exists() and stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert first["VAPID_SUBJECT"] == EMBEDDED_SUBJECT
    assert _public_of(first["VAPID_PRIVATE_KEY"]) == first["VAPID_PUBLIC_KEY"]  # a real pair
    stored = json.loads(key_file.read_text())
    assert (stored["public_key"], stored["private_key"]) == (first["VAPID_PUBLIC_KEY"], first["VAPID_PRIVATE_KEY"])

    again = build_config(str(tmp_path))  # the next start (or another process) keeps the same pair
    assert (again["VAPID_PUBLIC_KEY"], again["VAPID_PRIVATE_KEY"]) == (first["VAPID_PUBLIC_KEY"],
                                                                        first["VAPID_PRIVATE_KEY"])


def test_keys_given_in_the_environment_win_and_nothing_is_written(tmp_path, monkeypatch):
    public, private = generate_vapid_keys()
    monkeypatch.setenv("VAPID_PUBLIC_KEY", public)
    monkeypatch.setenv("VAPID_PRIVATE_KEY", private)
    monkeypatch.setenv("VAPID_SUBJECT", "mailto:ops@pawline.test")
    cfg = build_config(str(tmp_path))
    assert (cfg["VAPID_PUBLIC_KEY"], cfg["VAPID_PRIVATE_KEY"], cfg["VAPID_SUBJECT"]) == (
        public, private, "mailto:ops@pawline.test")
    assert not (tmp_path / KEY_FILE).exists()


def test_a_subject_given_alone_is_kept_with_the_embedded_pair(tmp_path, monkeypatch):
    monkeypatch.setenv("VAPID_SUBJECT", "mailto:me@example.com")
    assert build_config(str(tmp_path))["VAPID_SUBJECT"] == "mailto:me@example.com"


@pytest.mark.parametrize("env", ["production", "test"])
def test_production_and_tests_never_make_keys(tmp_path, env):
    cfg = build_config(str(tmp_path), {"APP_ENV": env, "SECRET_KEY": "x" * 40})
    assert (cfg["VAPID_PUBLIC_KEY"], cfg["VAPID_PRIVATE_KEY"]) == (None, None)
    assert not (tmp_path / KEY_FILE).exists()


def test_production_still_refuses_half_a_pair(tmp_path, monkeypatch):
    public, _ = generate_vapid_keys()
    with pytest.raises(ConfigError, match="VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY"):
        build_config(str(tmp_path), {"APP_ENV": "production", "SECRET_KEY": "x" * 40, "VAPID_PUBLIC_KEY": public})
