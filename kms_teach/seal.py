"""Seal the shipped question bank after editing it: ``python -m kms_teach.seal``.

Writes the fingerprints of the topic files in ``assets/questions`` that pass the schema to
``kms_teach/sealed_questions.json``, so a learner's kernel loads them without importing
jsonschema. A test fails while the seal is out of date; an unsealed file is still checked in full.
"""

from __future__ import annotations

import sys

from .questions import SEALED_FILE, question_files, seal


def main() -> int:
    left_out = seal()
    print(f"sealed {len(question_files()) - len(left_out)} topic files in {SEALED_FILE.name}"
          + (f"; not sealed (schema problems): {', '.join(left_out)}" if left_out else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
