"""The Teacher Protocol: the five teachers share one dataclass of common fields, redeclare only
the defaults that differ, and the stages ask them without probing for attributes."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from md.teacher.base import Teacher, TeacherFields
from md.teacher.hf import HFTeacher
from md.teacher.openai_client import OpenAITeacher
from md.teacher.published import PublishedTeacher
from md.teacher.replay import ReplayTeacher
from md.teacher.simulated import SimulatedTeacher
from md.teacher.vllm_teacher import VLLMTeacher

MD = Path(__file__).resolve().parents[2] / "md"
TEACHERS = (SimulatedTeacher, ReplayTeacher, PublishedTeacher, OpenAITeacher, HFTeacher,
            VLLMTeacher)
PROTOCOL = set(Teacher.__annotations__) | {"check_ready", "complete", "thoughts_for", "aclose"}


@pytest.mark.parametrize("cls", TEACHERS, ids=lambda c: c.__name__)
def test_each_teacher_has_the_protocol_and_redeclares_only_its_own_defaults(cls):
    assert issubclass(cls, TeacherFields)
    names = {f.name for f in dataclasses.fields(cls)} | set(dir(cls))
    assert PROTOCOL <= names, PROTOCOL - names
    shared = {f.name: f for f in dataclasses.fields(TeacherFields)}
    for name in set(cls.__dict__.get("__annotations__", {})) & set(shared):
        base, own = shared[name], {f.name: f for f in dataclasses.fields(cls)}.get(name)
        if own is not None:  # a ClassVar (recorded, batch_api) is not a field
            assert own.default != base.default, f"{cls.__name__}.{name} repeats the shared default"


def test_the_protocol_and_the_dataclass_name_the_same_fields():
    fields = {f.name for f in dataclasses.fields(TeacherFields)} | {"recorded", "batch_api"}
    assert set(Teacher.__annotations__) == fields


def test_no_code_probes_a_teacher_for_attributes():
    probe = re.compile(r"\b(?:has|get)attr\((?:self\.)?teacher\b")
    found = [f"{p.relative_to(MD.parent)}" for p in MD.rglob("*.py") if probe.search(p.read_text())]
    assert not found, found


def test_a_teacher_that_takes_no_requests_says_so():
    from md.errors import MDError

    published = PublishedTeacher(path="nowhere", dataset="gsm8k")
    assert published.recorded and not published.batch_api and published.n == 1
    assert OpenAITeacher(model="m", params={}).batch_api
    with pytest.raises(MDError, match="takes no requests"):
        import asyncio

        asyncio.run(published.complete([]))
