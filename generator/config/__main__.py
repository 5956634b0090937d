"""``python -m trame.config``: the README's config reference, from the declarations."""

from .walk import config_reference

print(config_reference(), end="")
