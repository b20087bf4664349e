"""Custom actions for Rasa (`rasa run actions --actions actions`): answers from content/."""
