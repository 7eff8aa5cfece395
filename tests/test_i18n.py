"""Chinese is complete: every exported term of every module has a zh_CN translation."""

from pathlib import Path

import polib
import pytest

ROOT = Path(__file__).resolve().parent.parent
MODULES = ("wechat_member", "wechat_coupon", "wechat_referral")
PLACEHOLDERS = ("%s", "%d", "%(")


@pytest.mark.parametrize("module", MODULES)
def test_zh_cn_complete(module):
    pot = polib.pofile(str(ROOT / module / "i18n" / f"{module}.pot"))
    po = polib.pofile(str(ROOT / module / "i18n" / "zh_CN.po"))
    translated = {(e.msgctxt, e.msgid): e.msgstr for e in po if not e.obsolete}
    missing = [e.msgid for e in pot if not translated.get((e.msgctxt, e.msgid), "").strip()]
    assert not missing, f"{len(missing)} untranslated in {module}: {missing[:10]}"
    assert po.metadata.get("Language") == "zh_CN"
    for entry in po:
        for mark in PLACEHOLDERS:
            assert entry.msgid.count(mark) == entry.msgstr.count(mark), (module, entry.msgid, entry.msgstr)


@pytest.mark.parametrize("module", MODULES)
def test_no_stale_terms(module):
    """A term in zh_CN.po that is not in the .pot is stale (the .pot is exported by ./run i18n)."""
    pot = polib.pofile(str(ROOT / module / "i18n" / f"{module}.pot"))
    assert len(pot) > 0
    po = polib.pofile(str(ROOT / module / "i18n" / "zh_CN.po"))
    stale = [e.msgid for e in po if not e.obsolete and pot.find(e.msgid, msgctxt=e.msgctxt) is None]
    assert not stale, f"{module}: zh_CN.po has terms the code no longer has: {stale[:10]}"
