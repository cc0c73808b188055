"""A deterministic corpus of typical Program-of-Thought programs for the sandbox benchmark.

`corpus(n_generated, shared_data)` = the 999 real code-davinci-002 SVAMP programs (when the
shared data folder is there) + `n_generated` programs made by filling numbers into GSM8K-style
program shapes (PoT `ans =` style, PAL `def solution()` style, printing, loops, math, fractions,
numpy and a little sympy), seeded so every run measures the same programs.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

CODEX = "teacher_outputs/pot_codex_svamp/svamp_s0_e-1_11_24_14_38.jsonl"

SHAPES = [
    "eggs_per_day = {a}\neaten = {b}\nbaked = {c}\nprice = {d}\nans = (eggs_per_day - eaten - baked) * price",
    "bolts_blue = {a}\nbolts_white = bolts_blue / 2\nans = bolts_blue + bolts_white",
    "house = {a}00\nrepairs = {b}00\nincrease = 1.5\nvalue = house * (1 + increase)\nans = value - house - repairs",
    "sprints = {a}\ntimes = {b}\nmeters = {c}\nans = sprints * times * meters",
    "def solution():\n    cups_per_chicken = {a}\n    chickens = {b}\n    given = {c}\n    return cups_per_chicken * chickens - given",
    "def solution():\n    price = {a}\n    discount = {b} / 100\n    return price * (1 - discount)",
    "total = 0\nfor day in range({a}):\n    total += {b}\nans = total",
    "apples = [{a}, {b}, {c}, {d}]\nans = sum(apples) / len(apples)",
    "import math\nradius = {a}\nans = round(math.pi * radius ** 2, 2)",
    "import math\nans = math.ceil({a}00 / {b})",
    "import math\nans = math.gcd({a}{b}, {c}{d})",
    "from fractions import Fraction\nshare = Fraction({a}, {b}) + Fraction({c}, {d})\nans = float(share)",
    "wage = {a}\nhours = {b}{c}\novertime = max(0, hours - 40)\nans = wage * min(hours, 40) + wage * 1.5 * overtime",
    "glasses = {a}{b}\nfull_price = {c}\nans = glasses // 2 * full_price + (glasses - glasses // 2) * full_price * 0.6",
    "people = {a}\nslices_each = {b}\nslices_per_pizza = 8\nans = -(-people * slices_each // slices_per_pizza)",
    "start = {a}{b}\nfor _ in range({c}):\n    start = start * 2\nans = start",
    "money = {a}{b}{c}\nspent = money * {d} / 10\nprint(money - spent)",
    "weekly = {a}\nweeks = 52\nyearly = weekly * weeks\nprint('yearly', yearly)\nprint(yearly / 12)",
    "cats = {a}\ndogs = cats * {b}\nfish = dogs + {c}\nresult = cats + dogs + fish",
    "speed = {a}{b}\ntime_hours = {c}\ndistance = speed * time_hours\nans = distance",
    "ages = {{'tom': {a}, 'ann': {b}}}\nans = ages['tom'] + ages['ann'] + {c}",
    "import numpy as np\nscores = np.array([{a}, {b}, {c}, {d}])\nans = float(np.mean(scores))",
    "import numpy as np\nans = int(np.sum(np.arange({a}, {a}{b})))",
    "n = {a}{b}\nans = sum(i for i in range(1, n + 1) if i % {c} == 0)",
    "def solution():\n    boxes = {a}\n    per_box = {b}\n    broken = {c}\n    result = boxes * per_box - broken\n    return result",
    "tank = {a}00\nrate = {b}\nminutes = 0\nwhile tank > 0:\n    tank -= rate\n    minutes += 1\nans = minutes",
    "pct = {a}\ntotal = {b}00\nans = total * pct / 100",
    "from collections import Counter\nc = Counter('{a}{b}{c}{d}{a}{b}')\nans = c.most_common(1)[0][1]",
    "import sympy as sp\nx = sp.symbols('x')\nans = sp.solve(sp.Eq({a} * x + {b}, {c}{d}), x)[0]",
    "import datetime\nd = datetime.date(2023, {a}, {b}) + datetime.timedelta(days={c})\nans = d.day",
]


def generated(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    programs = []
    for i in range(n):
        shape = SHAPES[i % len(SHAPES)]
        programs.append(shape.format(**{k: rng.randint(1, 9) for k in "abcd"}))
    return programs


def codex_programs(shared_data: Path | None) -> list[str]:
    path = shared_data / CODEX if shared_data else None
    if path is None or not path.exists():
        return []
    records = (json.loads(line) for line in path.read_text().splitlines())
    return [r["generated"][0] for r in records if "generated" in r]


def corpus(n_generated: int = 2100, shared_data: Path | None = None) -> list[str]:
    return codex_programs(shared_data) + generated(n_generated)
