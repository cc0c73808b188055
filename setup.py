"""md's Hydra configs live at the top of the checkout (conf/) and ship inside the wheel as md/conf:
the package md.conf is mapped onto that folder here, the one thing pyproject.toml cannot say
beside an automatic package search. Everything else is in pyproject.toml."""

from setuptools import find_packages, setup

setup(packages=[*find_packages(include=["md", "md.*"]), "md.conf"],
      package_dir={"md.conf": "conf"})
