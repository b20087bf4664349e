"""The gateway (SPEC §2): one asyncio process that speaks to newcomers on every channel and to
Rasa behind them. Channel adapters (REST here; Telegram and the widget) are thin: all of them
call `conversation.Assistant.handle`."""
