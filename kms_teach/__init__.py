"""kms-teach: an interactive teaching module on Kasabach-Merritt phenomenon.

Educational use only, not for clinical decisions.

The public API is re-exported here; ``help(kms_teach.simulate)`` documents
units and arguments.
"""

from . import describe
from ._assets import AssetError
from .cases import Case, case_names, list_cases, load_case
from .labs import LabPanel, lab_panel, reference_range
from .model import LAB_UNITS, LABS, CohortResult, Result, parse_criterion, simulate, simulate_cohort
from .parameters import default_parameters, load_parameters
from .progress import Answers, AnswersError, ProgressError, load_answers, parse_answers, save_answers
from .questions import Bank, Grade, Problem, Question, case_panel, consequence, grade, load_bank
from .treatments import TreatmentEvent, UnknownTreatmentError, load_treatments, treatment_names

__version__ = "0.1.0"

NOTICE = "Educational use only, not for clinical decisions."

__all__ = [
    "AssetError",
    "Bank",
    "Grade",
    "Problem",
    "Answers",
    "AnswersError",
    "ProgressError",
    "Question",
    "case_panel",
    "consequence",
    "grade",
    "load_bank",
    "load_answers",
    "parse_answers",
    "save_answers",
    "Case",
    "CohortResult",
    "LABS",
    "LAB_UNITS",
    "LabPanel",
    "NOTICE",
    "Result",
    "TreatmentEvent",
    "UnknownTreatmentError",
    "case_names",
    "default_parameters",
    "describe",
    "lab_panel",
    "list_cases",
    "load_case",
    "load_parameters",
    "load_treatments",
    "parse_criterion",
    "reference_range",
    "simulate",
    "simulate_cohort",
    "treatment_names",
]
