"""Chinese text is drawn with a CJK font, not as boxes ("tofu"): every check here fails when Chromium has
no font for the characters (fonts-noto-cjk missing)."""

from __future__ import annotations

from playwright.sync_api import BrowserContext, expect

from tests.browser.ui import Ui

# Draws two different characters in the heading's font; with no CJK font both are the same .notdef box.
GLYPHS_DIFFER = """(h1) => {
  const font = getComputedStyle(h1).font;
  const draw = (ch) => {
    const canvas = document.createElement("canvas");
    canvas.width = 64; canvas.height = 64;
    const ctx = canvas.getContext("2d");
    ctx.font = font.replace(/\\d+(\\.\\d+)?px/, "40px");
    ctx.fillStyle = "#000";
    ctx.textBaseline = "top";
    ctx.fillText(ch, 8, 8);
    return Array.from(ctx.getImageData(0, 0, 64, 64).data.filter((_, i) => i % 4 === 3));
  };
  const a = draw("待"), b = draw("办");
  const ink = (p) => p.filter((v) => v > 0).length;
  return {inkA: ink(a), inkB: ink(b), differ: a.some((v, i) => v !== b[i])};
}"""

TEXT_WIDTH = """(el) => {
  const range = document.createRange();
  range.selectNodeContents(el);
  return {width: range.getBoundingClientRect().width, size: parseFloat(getComputedStyle(el).fontSize)};
}"""


def test_chinese_is_rendered_with_a_cjk_font(ui: Ui, context: BrowserContext) -> None:
    page = ui.page
    ui.login("clerk")
    page.click("#nav-tasks")
    heading = page.locator("main h1")
    expect(heading).to_have_text("待办")
    ui.shot("inbox")
    ui.shots.folder.joinpath("heading.png").write_bytes(heading.screenshot())

    # The font the page asks for is there (on its own no proof: check() is true for any local font name,
    # installed or not, hence the checks after it).
    assert page.evaluate("document.fonts.check('16px \"Noto Sans CJK SC\"')")

    # Chromium drew the heading's characters with a CJK font (not a fallback without the glyphs).
    cdp = context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": "main h1"})["nodeId"]
    fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    assert fonts, "no font rendered the heading"
    assert all("CJK" in f["familyName"] for f in fonts), fonts
    assert sum(f["glyphCount"] for f in fonts) == 2, fonts

    # Two ideographs take about two ems; a Latin pair of the same size is much narrower.
    chinese = page.evaluate(TEXT_WIDTH, heading.element_handle())
    assert 1.8 * chinese["size"] <= chinese["width"] <= 2.2 * chinese["size"], chinese
    latin = page.evaluate(
        """(h1) => { const c = h1.cloneNode(); c.textContent = "ii"; c.style.display = "inline";
                     h1.after(c); const r = c.getBoundingClientRect().width; c.remove(); return r; }""",
        heading.element_handle(),
    )
    assert latin < chinese["width"] / 2, (latin, chinese)

    # Different characters have different shapes, and both have ink.
    glyphs = page.evaluate(GLYPHS_DIFFER, heading.element_handle())
    assert glyphs["inkA"] > 50 and glyphs["inkB"] > 50 and glyphs["differ"], glyphs

    # Longer Chinese text elsewhere on the page (the navigation, the description) is drawn the same way.
    nav = cdp.send("DOM.querySelector", {"nodeId": root, "selector": "#current-user"})["nodeId"]
    nav_fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": nav})["fonts"]
    assert any("CJK" in f["familyName"] for f in nav_fonts), nav_fonts
