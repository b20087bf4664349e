"""Channel adapters (SPEC §6): each turns its platform's input into an `IncomingMessage` for
the one `Assistant`, shows the replies its own way, and registers with `Outbound` how it delivers
messages the newcomer did not ask for. Each module has `setup(app)`, called by `bot.app`."""
