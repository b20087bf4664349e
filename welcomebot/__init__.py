"""Shared core of welcomebot: content model, languages, UI strings and text normalisation.

Used by every part that talks to newcomers: the action server (`actions/`), the gateway
(`bot/`) and the CLI. Channel adapters never reimplement anything that lives here.
"""
