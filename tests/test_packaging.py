"""`pip install .` ships every package and resource the app needs."""
import ast
import importlib.metadata
import re
import sys
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


MIT_SENTENCES = (
    "Permission is hereby granted, free of charge, to any person obtaining a copy of this "
    "software and associated documentation files (the \"Software\"), to deal in the Software "
    "without restriction,",
    "The above copyright notice and this permission notice shall be included in all copies "
    "or substantial portions of the Software.",
    "THE SOFTWARE IS PROVIDED \"AS IS\", WITHOUT WARRANTY OF ANY KIND,",
)


def test_the_mit_license_the_metadata_names_ships_with_its_holder():
    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert cfg["project"]["license"] == "MIT"
    shipped = [p for pattern in cfg["project"]["license-files"] for p in ROOT.glob(pattern)]
    assert ROOT / "LICENSE" in shipped
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License")
    assert "Copyright (c) 2026 Backprop Lab contributors" in text
    flowing = " ".join(text.split())
    for sentence in MIT_SENTENCES:
        assert sentence in flowing


#: speed.py's optional rivals, installed by hand in a separate environment
RIVAL_MODULES = {"torch", "tensorflow", "keras", "jax", "jaxlib"}
RIVAL_DISTRIBUTIONS = {"torch", "tensorflow", "tensorflow-cpu", "keras", "jax", "jaxlib"}


def _dist_name(requirement: str) -> str:
    name = re.match(r"[A-Za-z0-9._-]+", requirement).group()
    return re.sub(r"[-_.]+", "-", name).lower()


def _third_party_imports_of_benchmarks() -> dict[str, set[str]]:
    """{top-level module: benchmark files importing it}, for modules neither in the standard
    library nor in this project (its packages, or a benchmark importing a sibling file)."""
    ours = {"core", "gui", "resources", "main", "benchmarks"} | {
        p.stem for p in (ROOT / "benchmarks").glob("*.py")}
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / "benchmarks").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top not in ours:
                    found.setdefault(top, set()).add(path.name)
    return found


def test_the_bench_extra_holds_what_the_benchmarks_need_beyond_the_app():
    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text())
    project = cfg["project"]
    app = {_dist_name(r) for r in project["dependencies"]}
    bench = {_dist_name(r) for r in project["optional-dependencies"]["bench"]}
    owners = importlib.metadata.packages_distributions()
    needed = set()
    for module, files in _third_party_imports_of_benchmarks().items():
        if module in RIVAL_MODULES:
            continue
        dists = owners.get(module)
        assert dists, (f"{', '.join(sorted(files))} import(s) {module}, which no installed "
                       "distribution provides: add it to the bench extra")
        needed |= {_dist_name(d) for d in dists}
    assert needed - app <= bench, f"add to the bench extra: {sorted(needed - app - bench)}"
    assert bench <= needed - app, (f"the bench extra lists what the benchmarks do not import "
                                   f"or the app already has: {sorted(bench - (needed - app))}")
    for extra, reqs in {"dependencies": project["dependencies"],
                        **project["optional-dependencies"]}.items():
        rivals = {_dist_name(r) for r in reqs} & RIVAL_DISTRIBUTIONS
        assert not rivals, f"{extra} must not pull in the optional rivals {sorted(rivals)}"


#: versions below which the suite fails, and why (checked by installing every lower bound of
#: pyproject.toml together in a fresh environment and running the whole suite there)
TOO_OLD = {
    "numba": ((0, 61), "numba 0.59 and 0.60 miss NaN/inf in arrays of 7 or fewer elements"),
    "scipy": ((1, 11, 1), "scipy 1.11.0 was withdrawn (yanked) from PyPI"),
    "scikit-learn": ((1, 4, 2), "scikit-learn 1.4.0 cannot be imported with NumPy 2"),
    "tensorboardx": ((2, 6, 2, 2), "tensorboardX before 2.6.2.2 cannot write a scalar with "
                                   "NumPy 2 nor be imported with protobuf 4 or later"),
}
#: the NumPy releases the lowest supported Numba runs with
NUMBA_NUMPY_RANGE = {(0, 61): ((1, 24), (2, 1))}


def _lower_bounds(requirements) -> dict[str, tuple]:
    bounds = {}
    for req in requirements:
        m = re.search(r">=\s*([0-9][0-9.]*)", req)
        if m:
            bounds[_dist_name(req)] = tuple(int(p) for p in m.group(1).split("."))
    return bounds


def test_the_declared_minimum_versions_are_ones_the_suite_passes_with():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for name, reqs in {"dependencies": project["dependencies"],
                       **project["optional-dependencies"]}.items():
        bounds = _lower_bounds(reqs)
        for dist, (floor, why) in TOO_OLD.items():
            if dist in bounds:
                assert bounds[dist] >= floor, f"{name}: {dist}>={bounds[dist]}, but {why}"
    bounds = _lower_bounds(project["dependencies"])
    low, high = NUMBA_NUMPY_RANGE[bounds["numba"][:2]]
    assert low <= bounds["numpy"][:2] <= high, (
        f"numba {bounds['numba']} does not run with numpy {bounds['numpy']}")
