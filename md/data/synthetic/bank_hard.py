"""Templates for the cases the paper's Table 5 says split CoT from PoT: large-number and multi-step
calculation, fractions and division, and comparisons whose answer is a text label ("neither day").

Compare templates make the two sides equal about a quarter of the time, so "neither ..." answers
are common enough to learn and to vote on.
"""

from __future__ import annotations

from md.data.synthetic.template import Template as T

DAY_LABELS = {"day1": "first day", "day2": "second day", "neither": "neither day"}


def _totals(r):
    a1, b1 = r.randint(5, 60), r.randint(5, 60)
    if r.random() < 0.25:  # the same total, split differently
        a2 = r.randint(1, a1 + b1 - 1)
        return {"a1": a1, "b1": b1, "a2": a2, "b2": a1 + b1 - a2}
    return {"a1": a1, "b1": b1, "a2": r.randint(5, 60), "b2": r.randint(5, 60)}


def _ratios(r):
    c1, t1 = r.randint(2, 12), r.randint(2, 12)
    if r.random() < 0.25:  # an equivalent ratio: 5/6 and 10/12
        k = r.randint(2, 4)
        return {"c1": c1, "t1": t1, "c2": c1 * k, "t2": t1 * k}
    return {"c1": c1, "t1": t1, "c2": r.randint(2, 24), "t2": r.randint(2, 24)}


def _unit_prices(r):
    n1, n2, unit = r.randint(2, 8), r.randint(2, 8), r.randint(1, 6)
    if r.random() < 0.25:
        return {"n1": n1, "p1": n1 * unit, "n2": n2, "p2": n2 * unit}
    return {"n1": n1, "p1": r.randint(3, 40), "n2": n2, "p2": r.randint(3, 40)}


def _savings(r):
    unit_q, k = r.randint(4, 14), r.randint(2, 6)  # prices in quarter dollars: exact in binary
    return {"unit": unit_q / 4, "k": k, "pack": (unit_q * k - r.randint(1, 6)) / 4,
            "sets": r.randint(2, 12)}


HARD = [
    T("large_price", ("large_numbers", "multi_step"),
      "The shop sells each t-shirt for ${price}. During the big game they increased the price by "
      "${increase} per t-shirt and sold {sold} t-shirts. How much money did they make?",
      lambda r: {"price": r.randint(101, 399), "increase": r.randint(101, 399),
                 "sold": r.randint(11, 49)},
      ("new_price = price + increase", "total = new_price * sold")),
    T("large_product", ("large_numbers",),
      "A factory makes {per_day} {item} every day. How many {item} does it make in {days} days?",
      lambda r: {"per_day": r.randint(101, 999), "days": r.randint(21, 99)},
      ("total = per_day * days",)),
    T("large_add", ("large_numbers",),
      "A library had {a} books. This year it received {b} more books. How many books does the "
      "library have now?",
      lambda r: {"a": r.randint(1000, 9999), "b": r.randint(1000, 9999)}, ("total = a + b",)),
    T("large_sub", ("large_numbers",),
      "A stadium has {seats} seats. {sold} tickets have been sold for tonight's game. How many "
      "seats are still available?",
      lambda r: {"seats": r.randint(20000, 60000), "sold": r.randint(10000, 19999)},
      ("left = seats - sold",)),
    T("shop_change", ("multi_step",),
      "{name} buys {n1} pens at {p1} dollars each and {n2} notebooks at {p2} dollars each, and "
      "pays with a {bill} dollar bill. How much change does {name} get?",
      lambda r: {"n1": r.randint(2, 6), "p1": r.randint(1, 5), "n2": r.randint(2, 5),
                 "p2": r.randint(3, 9), "bill": r.choice((50, 100))},
      ("pens = n1 * p1", "books = n2 * p2", "cost = pens + books", "change = bill - cost")),
    T("wage_left", ("multi_step",),
      "{name} works {hours} hours a day for {days} days and earns {rate} dollars per hour. Then "
      "{name} spends {spent} dollars on a bike. How much money does {name} have left?",
      lambda r: {"hours": r.randint(2, 8), "days": r.randint(2, 6), "rate": r.randint(5, 15),
                 "spent": r.randint(20, 150)},
      ("per_day = hours * rate", "earned = per_day * days", "left = earned - spent")),
    T("unit_rate", ("multi_step",),
      "If {n} {item} cost {cost} dollars, how much do {m} {item} cost?",
      lambda r: (lambda n, u: {"n": n, "cost": n * u, "m": r.randint(2, 15)})(
          r.randint(2, 9), r.randint(2, 12)),
      ("unit = cost / n", "total = unit * m")),
    T("rows_empty", ("multi_step",),
      "A theater has {rows} rows with {per_row} seats in each row. {taken} seats are taken. How "
      "many seats are empty?",
      lambda r: {"rows": r.randint(5, 30), "per_row": r.randint(8, 30), "taken": r.randint(10, 200)},
      ("seats = rows * per_row", "empty = seats - taken")),
    T("fraction_pour", ("fraction",),
      "{name} has {total} liters of juice to pour equally into {bottles} bottles. How many liters "
      "go into each bottle?",
      lambda r: {"total": r.randint(3, 49), "bottles": r.choice((2, 4, 5, 8))},
      ("each = total / bottles",), whole=False),
    T("fraction_of", ("fraction", "multi_step"),
      "There are {total} students in a class and {num}/{den} of them are girls. How many girls are "
      "in the class?",
      lambda r: (lambda den: {"total": den * r.randint(2, 9), "num": r.randint(1, den - 1),
                              "den": den})(r.randint(3, 8)),
      ("parts = total * num", "girls = parts / den")),
    T("fraction_savings", ("fraction", "multi_step"),
      "A pack of {k} {item} costs ${pack:money}. Bought one by one, each costs ${unit:money}. How "
      "many dollars do you save by buying {sets} packs instead of the {item} one by one?",
      _savings, ("single = unit * k", "saving = single - pack", "total = saving * sets"),
      whole=False),
    T("compare_days", ("compare", "multi_step"),
      "On the first day, {name} sold {a1} {item} and {b1} {item2}. On the second day, {name} sold "
      "{a2} {item} and {b2} {item2}. On which day did {name} sell more things in total?",
      _totals, ("day1 = a1 + b1", "day2 = a2 + b2", "answer = cmp(day1, day2)"), DAY_LABELS),
    T("compare_ratio", ("compare", "fraction"),
      "{name} went on a two-day fishing trip. On the first day, {name} caught {c1} catfish and {t1} "
      "trout. On the second day, {name} caught {c2} catfish and {t2} trout. On which day did "
      "{name} catch a higher ratio of catfish to trout?",
      _ratios, ("day1 = c1 / t1", "day2 = c2 / t2", "answer = cmp(day1, day2)"), DAY_LABELS,
      whole=False),
    T("compare_unit_price", ("compare", "fraction"),
      "Store A sells {n1} {item} for {p1} dollars. Store B sells {n2} {item} for {p2} dollars. "
      "Which store charges more for one of the {item}?",
      _unit_prices, ("a = p1 / n1", "b = p2 / n2", "answer = cmp(a, b)"),
      {"a": "store a", "b": "store b", "neither": "neither store"}, whole=False),
    T("compare_names", ("compare",),
      "{name} read {a} pages and {name2} read {b} pages. Who read more pages?",
      lambda r: (lambda a: {"a": a, "b": a if r.random() < 0.25 else r.randint(10, 99)})(
          r.randint(10, 99)),
      ("answer = cmp(a, b)",), {"a": "{name}", "b": "{name2}", "neither": "neither"}),
]
