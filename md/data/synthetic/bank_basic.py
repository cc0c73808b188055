"""Templates for one- and two-step problems: joins, take-aways, groups, shares, "how many more /
fewer", inverse phrasing ("after buying some he had 151") and irrelevant numbers (distractors).

The phrasings follow SVAMP and the cases in the paper's Table 5 and Appendix D.
"""

from __future__ import annotations

from md.data.synthetic.template import Template as T


def _share(r, lo=2, hi=9):
    people, each = r.randint(lo, hi), r.randint(2, 25)
    return {"total": people * each, "people": people}


def _two(lo, hi, gap=1):
    """Two values a > b, at least `gap` apart."""
    def sample(r):
        a = r.randint(lo + gap, hi)
        return {"a": a, "b": r.randint(lo, a - gap)}
    return sample


BASIC = [
    T("add_join", (),
      "{name} has {a} {item}. {name2} has {b} {item}. How many {item} do {name} and {name2} have "
      "together?",
      lambda r: {"a": r.randint(5, 95), "b": r.randint(5, 95)}, ("total = a + b",)),
    T("sub_left", (),
      "{name} had {a} {item}. {name} gave {b} {item} to {name2}. How many {item} does {name} have "
      "left?",
      _two(3, 120), ("left = a - b",)),
    T("mul_groups", (),
      "{name} has {groups} {container} with {each} {item} in each. How many {item} does {name} have "
      "in all?",
      lambda r: {"groups": r.randint(2, 12), "each": r.randint(3, 24)}, ("total = groups * each",)),
    T("div_share", (),
      "{name} has {total} {item} and shares them equally among {people} friends. How many {item} "
      "does each friend get?",
      _share, ("each = total / people",)),
    T("more_diff", ("more_fewer",),
      "{name} has {b} {item} and {a} {item2}. How many more {item2} than {item} does {name} have?",
      _two(4, 99), ("diff = a - b",)),
    T("fewer_than", ("more_fewer",),
      "{name} has {a} {item}. {name2} has {b} fewer {item} than {name}. How many {item} does "
      "{name2} have?",
      _two(2, 90, gap=3), ("other = a - b",)),
    T("more_than_total", ("more_fewer", "multi_step"),
      "{name} collected {a} {item}. {name2} collected {b} more {item} than {name}. How many {item} "
      "did they collect altogether?",
      lambda r: {"a": r.randint(5, 80), "b": r.randint(2, 40)},
      ("other = a + b", "total = a + other")),
    T("inverse_bought", ("inverse",),
      "{name} had {start} {item}. After buying some in a garage sale {name} had {after} {item} "
      "left. How many {item} did {name} buy?",
      lambda r: {"start": r.randint(10, 90), "after": r.randint(95, 220)},
      ("bought = after - start",)),
    T("inverse_gave", ("inverse",),
      "After giving {given} {item} to {name2}, {name} has {left} {item} left. How many {item} did "
      "{name} have at first?",
      lambda r: {"given": r.randint(3, 60), "left": r.randint(3, 90)}, ("start = left + given",)),
    T("inverse_got_more", ("inverse",),
      "{name} had some {item}. {name2} gave {name} {more} more {item}, and now {name} has {total} "
      "{item}. How many {item} did {name} have before?",
      lambda r: {"more": r.randint(2, 40), "total": r.randint(45, 150)},
      ("start = total - more",)),
    T("inverse_share", ("inverse",),
      "Some {item} were shared equally among {people} children, and each child got {each} {item}. "
      "How many {item} were there?",
      lambda r: {"people": r.randint(2, 12), "each": r.randint(2, 30)}, ("total = people * each",)),
    T("distractor_cakes", ("distractor",),
      "A baker made {made} cakes and {pastries} pastries. If he sold {sold} cakes and {sold_p} "
      "pastries, how many cakes would the baker still have?",
      lambda r: {"made": r.randint(40, 160), "pastries": r.randint(20, 160),
                 "sold": r.randint(10, 120), "sold_p": r.randint(5, 150)},
      ("left = made - sold",)),
    T("distractor_more", ("distractor", "more_fewer"),
      "{name} has {a} {item} and {c} {item2}. {name2} has {b} {item}. How many more {item} does "
      "{name} have than {name2}?",
      lambda r: {**_two(3, 95, gap=2)(r), "c": r.randint(3, 95)}, ("diff = a - b",)),
]
