"""The layout's rules, read off the source with `ast` (function-level imports included):

    entry points (python -m md.<stage>)  ─▶ md.config ─▶ md.pipeline ─▶ md.stages.* ─▶ libraries
                                                  md.settings, md.types, md.errors: leaves

Imports under `if TYPE_CHECKING:` count like any other: an annotation-only import still ties
the two modules together for a reader, and would hide a circle.

- no import cycle among md's modules;
- nothing imports an entry point; a stage imports no other stage and no pipeline;
- only the entry layer (the entry points and md/config/) imports md.config, omegaconf or
  hydra, so no config object travels below it;
- md.settings, the settings dataclasses every layer takes, is a leaf: md.errors and the
  standard library only;
- the root of md/ keeps what users run and the leaves everyone imports (at most 12 modules);
- no function takes more than 8 positional parameters (the rest are keyword-only).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

MD = Path(__file__).resolve().parent.parent / "md"
ENTRY_POINTS = {"md.extract", "md.execute", "md.mix", "md.train", "md.evaluate", "md.report",
                "md.data.__main__"}
# what reads a composed config: the entry points and md.config (command line, composition
# checks, config -> settings and builders, preflight)
MAX_ROOT_MODULES = 13  # __init__, 6 entry points, 6 leaves (errors fsio jsonl prompts settings types)
MAX_POSITIONAL = 8


def _modules() -> dict[str, Path]:
    out = {}
    for file in MD.rglob("*.py"):
        parts = list(file.relative_to(MD.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = file
    return out


MODULES = _modules()
ENTRY_LAYER = ENTRY_POINTS | {n for n in MODULES if n == "md.config" or n.startswith("md.config.")}


def _imports(name: str, file: Path) -> tuple[set[str], set[str]]:
    """(md modules `name` imports anywhere in its body, other top-level packages it imports);
    imports under `if TYPE_CHECKING:` included."""
    package = name if file.name == "__init__.py" else name.rsplit(".", 1)[0]
    ours, theirs = set(), set()
    for node in ast.walk(ast.parse(file.read_text())):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(up + ([node.module] if node.module else []))
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base
                       for a in node.names]
        else:
            continue
        for target in targets:
            if target in MODULES:
                ours.add(target)
            elif target.split(".")[0] == "md":
                ours.add(target.rsplit(".", 1)[0])  # `import md.x.y` where y is not a module
            else:
                theirs.add(target.split(".")[0])
    ours.discard(name)
    return ours, theirs


GRAPH = {name: _imports(name, file) for name, file in MODULES.items()}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle (as a path that returns to its start), or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node], _ = 1, stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        state[node], _ = 2, stack.pop()
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_graph_is_read_from_the_source():
    # function-level imports count: md.pipeline imports the stages inside its functions
    assert {"md.stages.extract", "md.stages.execute", "md.stages.mix"} <= GRAPH["md.pipeline"][0]
    assert "md.pipeline" in GRAPH["md.config.wiring"][0]
    assert "md.models.builder" in GRAPH["md.models.saved"][0]  # under `if TYPE_CHECKING:`
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycle_among_md_modules():
    cycle = _cycle({name: ours for name, (ours, _) in GRAPH.items()})
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_nothing_imports_an_entry_point():
    for name, (ours, _) in GRAPH.items():
        assert not ours & ENTRY_POINTS, f"{name} imports the entry point(s) {ours & ENTRY_POINTS}"


@pytest.mark.parametrize("stage", sorted(n for n in MODULES if n.startswith("md.stages.")))
def test_a_stage_knows_no_other_stage_pipeline_or_config(stage):
    ours, theirs = GRAPH[stage]
    others = {n for n in ours if n.startswith(("md.stages.", "md.pipeline")) or n in ENTRY_LAYER}
    assert not others, f"{stage} imports {others}"
    assert not theirs & {"omegaconf", "hydra"}


def test_only_the_entry_layer_reads_config_objects():
    below = {name: theirs & {"omegaconf", "hydra"} for name, (_, theirs) in GRAPH.items()
             if name not in ENTRY_LAYER}
    offenders = {name: sorted(pkgs) for name, pkgs in below.items() if pkgs}
    assert not offenders, f"config objects below the entry points: {offenders}"
    for name, file in MODULES.items():
        if name not in ENTRY_LAYER:
            assert not re.search(r"\bDictConfig\b", file.read_text()), f"{name} mentions DictConfig"


def test_nothing_below_the_entry_layer_imports_it():
    for name, (ours, _) in GRAPH.items():
        if name in ENTRY_LAYER:
            continue
        up = {n for n in ours if n in ENTRY_LAYER}
        assert not up, f"{name} imports {up} (the entry layer)"


def test_only_md_config_and_the_entry_points_import_md_config():
    importers = {name for name, (ours, _) in GRAPH.items()
                 if any(n == "md.config" or n.startswith("md.config.") for n in ours)}
    assert importers, "not vacuous: the entry points read configs"
    assert importers <= ENTRY_LAYER, sorted(importers - ENTRY_LAYER)
    assert all(n in ENTRY_POINTS or n.startswith("md.config") for n in ENTRY_LAYER)


def test_the_settings_are_a_leaf():
    ours, _ = GRAPH["md.settings"]
    assert ours <= {"md", "md.errors"}, f"md.settings imports {ours}"
    import sys

    std = set(sys.stdlib_module_names) | {"__future__"}
    theirs = GRAPH["md.settings"][1]
    assert theirs <= std, f"md.settings imports {theirs - std} beyond the standard library"


def test_no_function_takes_more_than_8_positional_parameters():
    long = []
    for name, file in MODULES.items():
        for node in ast.walk(ast.parse(file.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                positional = len(node.args.posonlyargs) + len(node.args.args)
                if positional > MAX_POSITIONAL:
                    long.append(f"{name}.{node.name} ({positional})")
    assert not long, "make the later parameters keyword-only (after *): " + ", ".join(long)


def test_the_root_holds_only_entry_points_and_leaves():
    root = sorted(p.name for p in MD.glob("*.py"))
    assert len(root) <= MAX_ROOT_MODULES, f"{len(root)} modules in md/: {root}; give them a package"
    stems = [p.stem for p in MD.rglob("*.py") if p.stem != "__init__"]
    assert stems.count("preflight") == 1 and stems.count("settings") == 1, "one of each"


TESTS = MD.parent / "tests"


def test_every_package_has_its_test_folder():
    packages = sorted(p.parent.name for p in MD.glob("*/__init__.py"))
    assert len(packages) >= 10  # not vacuous
    missing = [p for p in packages if not (TESTS / p).is_dir()]
    assert not missing, f"md/<package>/ without tests/<package>/: {missing}"


def test_md_bench_holds_benchmarks_only():
    """Nothing imports md.bench but md.bench itself: the builders the tests share live in the
    library (md.mixing.examples, md.models.tiny_student) or tests/helpers/."""
    outside = {name for name, (ours, _) in GRAPH.items() if not name.startswith("md.bench")
               and any(n.startswith("md.bench") for n in ours)}
    assert not outside, f"md modules importing md.bench: {sorted(outside)}"
    for file in TESTS.rglob("*.py"):
        for node in ast.walk(ast.parse(file.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            assert not any(n == "md.bench" or n.startswith("md.bench.") for n in names), \
                f"{file.relative_to(TESTS.parent)} imports md.bench"


def test_md_train_reads_like_a_recipe():
    """md/train.py: settings -> plan line -> preflight -> md.pipeline -> where the results are;
    the stage order (and whether a stage is done) lives in md/pipeline/ alone."""
    lines = (MD / "train.py").read_text().splitlines()
    ours, _ = GRAPH["md.train"]
    assert len(lines) <= 45, f"md/train.py has {len(lines)} lines"
    assert len(ours) <= 8, f"md/train.py imports {len(ours)} md modules: {sorted(ours)}"
    for entry in ("md.train", "md.evaluate"):
        stages = {n for n in GRAPH[entry][0] if n in ("md.stages.train", "md.training",
                                                       "md.training.runfolder", "md.stages.mix")}
        assert not stages, f"{entry} orders stages itself: imports {stages}"


def test_one_function_computes_every_stage_key():
    """Every stage's key is md.pipeline.artifacts.stage_key: no other module hashes settings
    into a key (md.tracking.lineage names a W&B artifact by its folder, not a stage)."""
    hashing = {name for name, file in MODULES.items()
               if re.search(r"\bcontent_hash\(", file.read_text())}
    assert hashing <= {"md.pipeline.artifacts", "md.tracking.lineage"}, sorted(hashing)
    for name in ("md.pipeline.job", "md.pipeline.evaluation"):
        assert "stage_key(" in MODULES[name].read_text(), f"{name} keys its stage another way"
