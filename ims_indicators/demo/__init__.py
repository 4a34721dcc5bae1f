"""The bundled demo network: synthetic submissions of the IMS partners and further member schools.

``generate_demo(out, seed)`` writes every school's mobility, staffing, enrolment and accreditation files
for five academic years in the raw layout, each school in its own "house style" (semicolon CSV in
Windows-1252, UTF-8 with BOM, XLSX with a title row, synonym headers), with a small share of planted
errors and one malformed file, all listed in ``demo_manifest.json``. All demo figures are synthetic.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # nothing heavy at package import
    from ims_indicators.demo.generate import DemoManifest


def generate_demo(out, seed: int = 2024, **kwargs) -> DemoManifest:
    from ims_indicators.demo.generate import generate_demo as _generate

    return _generate(out, seed, **kwargs)


__all__ = ["generate_demo"]
