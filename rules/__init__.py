"""Quality rules. Importing this package registers every rule in ``RULES``.

To add a rule, write one decorated function in the module that fits (or a new
module imported below) and its table-driven test; nothing else needs to change.
"""

from rules import arithmetic, benchmark, content, language, length, reference  # noqa: F401  (registers the rules)
from rules.base import RULES, Rule, Severity, rule
from rules.params import RuleParams

__all__ = ["RULES", "Rule", "RuleParams", "Severity", "rule"]
