"""The pages' language: zh_CN by default, English when the `lang` cookie says so (the switch in the page
header sets it). Messages live in catalogues: `translations/zh_Hans_CN/LC_MESSAGES/messages.po` (Babel
spells zh_CN so), compiled to `.mo` and committed (tests/web/test_i18n.py checks they agree and that
every message is translated); templates and code hold the English msgids, which English shows as is."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, request
from flask_babel import Babel

DEFAULT_LOCALE = "zh_CN"
LOCALES = {"zh_CN": "中文", "en": "English"}
COOKIE = "lang"
TRANSLATIONS = Path(__file__).parent / "translations"


def select_locale() -> str:
    """The locale of the current request: the `lang` cookie if it names one we have, else zh_CN."""
    wanted = request.cookies.get(COOKIE, "")
    return wanted if wanted in LOCALES else DEFAULT_LOCALE


def init_app(app: Flask) -> None:
    """Install Flask-Babel with our catalogues and the locale selector."""
    app.config.update(BABEL_DEFAULT_LOCALE=DEFAULT_LOCALE, BABEL_DEFAULT_TIMEZONE="Asia/Shanghai")
    Babel(app, locale_selector=select_locale, default_translation_directories=str(TRANSLATIONS))
