"""Only what pyproject.toml cannot say: the wheel carries the default content, the
translation catalogs and .env.example under bot/shipped/, so an installed bot answers
without a source checkout (bot/config.py finds them there)."""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

SHIPPED = {"content": "content", "locales": "locales", ".env.example": "env.example"}


class BuildWithContent(build_py):
    def run(self) -> None:
        super().run()
        target = Path(self.build_lib) / "bot" / "shipped"
        for source, name in SHIPPED.items():
            if Path(source).is_dir():
                shutil.copytree(
                    source,
                    target / name,
                    dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("*.mo", "__pycache__"),
                )
            else:
                target.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target / name)


setup(cmdclass={"build_py": BuildWithContent})
