"""The catalogues: every message of the pages is translated to Chinese, and the committed .mo is the
compiled .po (so `make run` needs no compile step)."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from coordinator.web.i18n import TRANSLATIONS

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = TRANSLATIONS / "zh_Hans_CN" / "LC_MESSAGES"


def messages(path: Path) -> dict[str, str]:
    """msgid → msgstr of a .po/.pot file."""
    with path.open("rb") as fh:
        return {str(m.id): str(m.string) for m in read_po(fh) if m.id}


def test_every_message_is_in_the_catalogue_and_translated(tmp_path: Path) -> None:
    pot = tmp_path / "messages.pot"
    pybabel = Path(sys.executable).parent / "pybabel"
    subprocess.run(
        [str(pybabel), "extract", "-F", "babel.cfg", "-o", str(pot), "--no-location", "."],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    extracted = set(messages(pot))
    po = messages(CATALOGUE / "messages.po")
    assert len(extracted) > 50
    assert extracted - set(po) == set(), "run `make messages` and translate the new messages"
    assert [k for k in extracted if not po[k]] == [], "untranslated messages in messages.po"


def test_the_committed_mo_is_the_compiled_po() -> None:
    po = messages(CATALOGUE / "messages.po")
    mo = {m.id: m.string for m in read_mo(io.BytesIO((CATALOGUE / "messages.mo").read_bytes())) if m.id}
    assert mo == po, "run `make messages` (it compiles messages.mo)"
