"""The portal's stylesheets share one set of design variables, defined once in css/tokens.css."""

import re
from pathlib import Path

STATIC = Path(__file__).resolve().parents[2] / "static"
TOKENS = STATIC / "css" / "tokens.css"
BANNER = STATIC / "consent" / "banner.css"
DECLARATION = re.compile(r"(--[\w-]+)\s*:\s*([^;]+);")


def _declared(css: str) -> dict[str, str]:
    return {
        name: " ".join(value.split()) for name, value in DECLARATION.findall(re.sub(r"/\*.*?\*/", "", css, flags=re.S))
    }


def _stylesheets() -> list[Path]:
    return sorted(STATIC.rglob("*.css"))


def test_every_variable_used_is_defined_in_the_tokens():
    tokens = _declared(TOKENS.read_text())
    assert tokens and all(name.startswith("--pp-") for name in tokens)
    for path in _stylesheets():
        used = set(re.findall(r"var\((--[\w-]+)", path.read_text()))
        assert used <= set(tokens), f"{path.name} uses {sorted(used - set(tokens))}"


def test_only_the_tokens_and_the_banner_declare_variables():
    declaring = [p.relative_to(STATIC).as_posix() for p in _stylesheets() if _declared(p.read_text())]
    assert declaring == ["consent/banner.css", "css/tokens.css"]


def test_the_banner_declares_the_tokens_own_values():
    tokens, banner = _declared(TOKENS.read_text()), _declared(BANNER.read_text())
    assert banner and {name: tokens.get(name) for name in banner} == banner


def test_colours_are_written_only_as_tokens():
    for path in _stylesheets():
        if path in (TOKENS, BANNER):
            continue
        css = re.sub(r"/\*.*?\*/", "", path.read_text(), flags=re.S)
        assert not re.findall(r"#[0-9a-fA-F]{3,8}\b", css), path.name
    banner_rules = BANNER.read_text().split("}", 1)[1]
    assert not re.findall(r"#[0-9a-fA-F]{3,8}\b", banner_rules)
