"""The content model (SPEC §5): `model` (objects and queries), `loader` (validation), `store`
(hot reload). Import from here."""
from .model import (  # noqa: F401
    AUDIENCES, CATEGORIES, Address, Contact, ContentSnapshot, District, FirstSteps, LocalizedText,
    Lotse, Municipality, Offer, Problem, Step, category_of_intent,
)
from .store import ContentError, ContentStore, check_content  # noqa: F401
