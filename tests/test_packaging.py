"""`pip install .` ships every package and resource the app needs."""
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_python_package_is_listed_in_pyproject():
    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text())
    listed = set(cfg["tool"]["setuptools"]["packages"])
    found = {str(p.parent.relative_to(ROOT)).replace("/", ".")
             for top in ("core", "gui", "resources") for p in (ROOT / top).rglob("__init__.py")}
    missing = found - listed
    assert not missing, f"add these packages to pyproject.toml: {sorted(missing)}"


def test_entry_point_and_main_module():
    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert cfg["project"]["gui-scripts"]["backprop-lab"] == "main:main"
    import main
    assert callable(main.main)


def test_lesson_texts_are_package_data():
    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text())
    data = cfg["tool"]["setuptools"]["package-data"]
    assert "*.md" in data["resources.lessons"]
    assert (ROOT / "resources" / "lessons" / "welcome.md").is_file()
